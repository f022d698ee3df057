// The engine in another module (the page's Web Worker), seen through the protocol: commands leave as bytes through
// `transport`, snapshots arrive as bytes (receive) and are rebuilt part by part; parts a message does not carry
// stay shared. No weights and no big tensors live on this side; files (pictures) do, and travel decoded.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "app/engine.h"

namespace lrp::app {

class RemoteEngine : public EngineApi {
 public:
  using Transport = std::function<void(const std::vector<uint8_t>&)>;
  explicit RemoteEngine(Transport transport);
  Mode mode() const override { return Mode::Remote; }
  long long posted() const override { return posted_; }
  std::shared_ptr<const Snapshot> snapshot() const override { return current_; }
  bool send(Command c) override;
  // A snapshot message from the engine; a bad one is refused (one line on the error line), the last one stays.
  void receive(const uint8_t* data, std::size_t size);

 private:
  Transport transport_;
  long long posted_ = 0;
  std::shared_ptr<const Snapshot> current_;
};

}  // namespace lrp::app
