// The forward pass, a Job: run to the end at once, or advanced by steps of about a budget of multiply-adds (rows
// of a layer, or several small layers), so long work can be spread out and cancelled between steps.
// It can keep every layer's output (LRP needs them) or stream through two buffers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/job.h"
#include "engine/tensor.h"
#include "model/network.h"

namespace lrp {

class ThreadPool;

struct ForwardOptions {
  bool keep = true;                 // keep every layer's output and the max-pool switches
  ThreadPool* pool = nullptr;       // null: the default pool
  // Start at this layer: the input is then that layer's input (e.g. masked activations for the optimiser's
  // forward difference); outputs of earlier layers are not available.
  int first_layer = 0;
  // Called after each layer has finished, with its output (may modify it: the optimiser masks neurons).
  std::function<void(int layer, Tensor& out)> after_layer;
};

class ForwardPass : public Job {
 public:
  ForwardPass(std::shared_ptr<const Network> net, Tensor input, ForwardOptions opt = {});

  bool done() const override { return layer_ >= net_->size(); }
  Step step(double budget_macs) override;
  double progress() const override;  // 0..1 by multiply-adds
  int current_layer() const { return layer_; }

  const Network& network() const { return *net_; }
  std::shared_ptr<const Network> network_ptr() const { return net_; }
  const Tensor& input() const { return input_; }
  const Tensor& logits() const;
  // Output of layer i (keep = true).
  const Tensor& output(int i) const;
  // Input of layer i (the previous layer's output, or the image).
  const Tensor& layer_input(int i) const;
  const std::vector<int32_t>& switches(int i) const;
  const std::vector<double>& layer_ms() const { return layer_ms_; }
  double total_ms() const;

 private:
  Tensor& out_buffer(int i);
  void begin_layer();

  std::shared_ptr<const Network> net_;
  ForwardOptions opt_;
  Tensor input_;
  std::vector<Tensor> outputs_;
  std::vector<std::vector<int32_t>> switches_;
  std::vector<double> layer_ms_;
  Tensor stream_[2];
  int layer_ = 0;
  int row_ = 0;  // the next output row of the current layer
  long long done_macs_ = 0, total_macs_ = 0;
};

// Runs layers first..end on `x`, the input of layer `first` (streaming), and returns the logits. Used to re-run the
// top of a network with some neurons switched off (the optimiser's forward difference) or a perturbed input.
Tensor forward_from(const Network& net, int first, const Tensor& x, ThreadPool* pool = nullptr);

// The layer whose output holds a layer's "neuron activations": the ReLU after a conv / hidden fc, else itself.
int activation_layer(const Network& net, int layer);

// Convenience: logits of one preprocessed input.
Tensor forward_logits(std::shared_ptr<const Network> net, const Tensor& input, ThreadPool* pool = nullptr);

// Softmax probabilities of logits (numerically stable).
std::vector<float> softmax(const Tensor& logits);
// The classes by logit, highest first (ties: the lower index first); the top class (-1 for no logits).
std::vector<int> rank_classes(const Tensor& logits);
int argmax(const Tensor& logits);

}  // namespace lrp
