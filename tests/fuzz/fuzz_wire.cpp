// Fuzz target: the engine's protocol as bytes (what the page's interface and the engine's worker send each other):
// commands and snapshots. A message either decodes or throws Error; one that decodes encodes and decodes again.
// The seeds are real messages of the tiny test model (written once into the corpus).
#include <cstdint>
#include <cstdio>
#include <string>
#include <sys/stat.h>

#include "app/engine.h"
#include "app/wire.h"
#include "engine/error.h"

namespace {
void write(const std::string& path, const std::vector<uint8_t>& b) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) return;
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(b.data(), 1, b.size(), f);
    std::fclose(f);
  }
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace lrp::app;
  Engine e(Engine::Mode::Inline);
  if (!e.load_model_file("tests/fixtures/tiny_vgg16.safetensors")) return 0;
  e.load_image_file("assets/samples/imagenet/chelsea.png", "chelsea");
  e.wait_idle(120);
  mkdir("fuzz-corpus", 0755);
  mkdir("fuzz-corpus/wire", 0755);
  const auto s = e.snapshot();
  write("fuzz-corpus/wire/seed-snapshot", encode_snapshot(*s, nullptr));
  Command c(Command::Kind::SetComposite);
  c.composite = std::make_shared<const lrp::Composite>(s->settings.composite);
  c.target = lrp::Target::contrast(1, 2);
  c.list = {"a view error"};
  write("fuzz-corpus/wire/seed-command", encode_command(c));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lrp::app;
  try {
    const Command c = decode_command(data, size);
    const auto again = encode_command(c);
    (void)decode_command(again.data(), again.size());
  } catch (const lrp::Error&) {
  }
  try {
    Snapshot s;
    decode_snapshot(data, size, s);
    const auto again = encode_snapshot(s, nullptr);
    Snapshot t;
    decode_snapshot(again.data(), again.size(), t);
  } catch (const lrp::Error&) {
  }
  return 0;
}
