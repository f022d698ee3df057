#include "app/remote_engine.h"

#include "app/wire.h"

namespace lrp::app {

RemoteEngine::RemoteEngine(Transport transport)
    : transport_(std::move(transport)), current_(std::make_shared<const Snapshot>()) {}

bool RemoteEngine::send(Command c) {
  // a picture file is here, not in the engine's module: it travels as the decoded picture (or as the reason why it
  // could not be opened, in the order of the commands)
  if (c.kind == Command::Kind::LoadImageFile) {
    const std::string shown = Session::shown_name(c.path, c.name);
    auto img = std::make_shared<Image>();
    std::string why;
    Command d(Command::Kind::LoadPicture);
    if (Session::read_picture(c.path, shown, img.get(), &why)) {
      d.picture = std::move(img);
      d.name = shown;
      d.source = c.source;
    } else {
      d = Command(Command::Kind::ReportError);
      d.text = why;
    }
    c = std::move(d);
  }
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
