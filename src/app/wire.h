// The engine's protocol as bytes, for an engine in another module (the page's Web Worker): commands one way,
// snapshot parts the other. Little-endian, length-prefixed, every read bounds-checked (a bad message throws Error,
// never reads past its end). Only the parts of a snapshot that changed since the last message are sent. Each struct
// is described once (wire.cpp: one function per struct, used by the writer and by the reader).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/command.h"
#include "app/snapshot.h"

namespace lrp::app {

// A command as bytes (a model or picture travels in it; a network or weight store in memory cannot, and throws).
std::vector<uint8_t> encode_command(const Command& c);
Command decode_command(const uint8_t* p, std::size_t n);

// The parts of `now` that are not the very parts of `sent` (null: all), and the status.
std::vector<uint8_t> encode_snapshot(const Snapshot& now, const Snapshot* sent);
// Applies a message to `into`: the parts it carries replace the old ones (fresh objects), the others stay shared;
// a bad message changes nothing.
void decode_snapshot(const uint8_t* p, std::size_t n, Snapshot& into);

}  // namespace lrp::app
