#include "app/remote_engine.h"

#include "app/wire.h"

namespace lrp::app {

RemoteEngine::RemoteEngine(Transport transport)
    : transport_(std::move(transport)), current_(std::make_shared<const Snapshot>()) {}

bool RemoteEngine::send(Command c) {
  std::vector<uint8_t> bytes;
  try {
    bytes = encode_command(c);
  } catch (const std::exception& e) {
    auto s = std::make_shared<Snapshot>(*current_);
    s->error = std::string("the request could not be sent to the engine: ") + e.what();
    current_ = std::move(s);
    return false;
  }
  ++posted_;
  transport_(bytes);
  return true;
}

void RemoteEngine::receive(const uint8_t* data, std::size_t size) {
  auto next = std::make_shared<Snapshot>(*current_);
  try {
    decode_snapshot(data, size, *next);
  } catch (const std::exception& e) {
    next = std::make_shared<Snapshot>(*current_);
    next->error = std::string("a message from the engine was damaged: ") + e.what();
  }
  current_ = std::move(next);
}

}  // namespace lrp::app
