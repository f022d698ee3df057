// The engine service: the same results inline (the page) and on its own thread (the desktop), commands applied in
// order, display data on request, and an interface thread that never waits for the engine while a full-size VGG16
// explanation runs.
#include <gtest/gtest.h>

#include <cstdio>

#include <algorithm>
#include <chrono>

#include "app/engine.h"
#include "app/remote_engine.h"
#include "app/wire.h"
#include "engine/error.h"
#include "explain/conditional.h"
#include "explain/sanity.h"
#include "explain/workspace.h"
#include "model/forward.h"
#include "model/image.h"
#include "model/network.h"
#include "model/random_weights.h"
#include "test_util.h"

namespace lrp::app {
namespace {

const std::string kTiny = "tests/fixtures/tiny_vgg16.safetensors";
const std::string kCat = "assets/samples/imagenet/chelsea.png";

void open_tiny(Engine& e) {
  ASSERT_TRUE(e.load_model_file(test::source_path(kTiny)));
  ASSERT_TRUE(e.load_image_file(test::source_path(kCat), "chelsea"));
  ASSERT_TRUE(e.wait_idle(120));
}

TEST(Engine, InlineSnapshotCarriesWhatTheInterfaceDraws) {
  Engine e(Engine::Mode::Inline);
  open_tiny(e);
  auto s = e.snapshot();
  ASSERT_TRUE(s->error.empty()) << s->error;
  ASSERT_NE(s->network(), nullptr);
  EXPECT_FALSE(s->network()->has_weights());  // the interface gets the outline only
  EXPECT_FALSE(s->network()->layer(0).weight);
  ASSERT_TRUE(s->logits && s->explanation && s->graph && s->detail);
  EXPECT_FALSE(s->working);
  EXPECT_EQ(s->applied, e.posted());
  EXPECT_EQ(s->explanation->input_relevance.shape(), s->network()->input_shape());
  // the explanation in words names the class it explains and the relevance the picture got
  const std::string& words = s->explanation->summary;
  EXPECT_NE(words.find("for " + s->network()->label(s->explanation->target_class)), std::string::npos) << words;
  char kept[64];
  std::snprintf(kept, sizeof kept, "adds up to %.0f %% of the logit",
                100.0 * s->explanation->input_sum / s->explanation->target_logit);
  EXPECT_NE(words.find(kept), std::string::npos) << words;
  EXPECT_EQ(s->graph->node_maps.size(), s->graph->graph.nodes.size());
  // a conv node's feature map is its channel of the rectified output
  EXPECT_FALSE(s->graph->node_maps[0].empty());
  EXPECT_EQ(static_cast<int>(s->detail->activation.size()), s->detail->act_h * s->detail->act_w);
  // no layer maps until asked for; then exactly that layer, from the same results
  EXPECT_EQ(s->layer_maps, nullptr);
  const int conv43 = s->network()->find("conv4_3");
  e.want_layer(conv43);
  s = e.snapshot();
  ASSERT_NE(s->layer_maps, nullptr);
  EXPECT_EQ(s->layer_maps->layer, conv43);
  EXPECT_EQ(s->layer_maps->activation.dim(0), s->network()->layer(conv43).out_shape[0]);
  // parts whose results did not change are shared, not copied again
  const auto before = e.snapshot();
  e.select_neuron(conv43, 3);
  ASSERT_TRUE(e.wait_idle(60));
  s = e.snapshot();
  EXPECT_EQ(s->explanation, before->explanation);
  EXPECT_EQ(s->graph, before->graph);
  EXPECT_EQ(s->picture, before->picture);
  EXPECT_NE(s->detail, before->detail);
  EXPECT_EQ(s->detail->detail.layer, conv43);
  EXPECT_EQ(s->detail->detail.index, 3);
}

TEST(Engine, TooltipHeatmapArrivesAsARequestedResult) {
  Engine e(Engine::Mode::Inline);
  open_tiny(e);
  const int layer = e.snapshot()->network()->find("conv4_3");
  e.hover(layer, 2);
  EXPECT_EQ(e.snapshot()->hover, nullptr);  // not computed by the request
  EXPECT_TRUE(e.snapshot()->working);
  ASSERT_TRUE(e.wait_idle(60));
  auto s = e.snapshot();
  ASSERT_NE(s->hover, nullptr);
  EXPECT_EQ(s->hover->layer, layer);
  EXPECT_EQ(s->hover->index, 2);
  // the same numbers as the restricted LRP computed directly
  Session ref;
  ASSERT_TRUE(ref.load_model_file(test::source_path(kTiny)));
  ASSERT_TRUE(ref.load_image_file(test::source_path(kCat), "chelsea"));
  while (ref.update(50)) {
  }
  const Tensor want = restricted_lrp(*ref.explanation(), {NeuronMask{layer, {2}}}, false);
  ASSERT_EQ(s->hover->conditional.size(), want.size());
  EXPECT_EQ(test::max_abs_diff(s->hover->conditional.data(), want.data(), want.size()), 0.0);
  e.hover(-1, -1);
  EXPECT_EQ(e.snapshot()->hover, nullptr);
}

TEST(Engine, BadRequestsReachTheErrorLineAndKeepThePreviousState) {
  Engine e(Engine::Mode::Inline);
  open_tiny(e);
  const auto good = e.snapshot();
  EXPECT_FALSE(e.load_model_file("/nonexistent/model.safetensors"));
  auto s = e.snapshot();
  EXPECT_NE(s->error.find("could not load the model"), std::string::npos) << s->error;
  EXPECT_EQ(s->model, good->model);
  EXPECT_EQ(s->explanation, good->explanation);
  // a link's engine part: every problem in one line, the rest applied
  std::vector<std::string> errors;
  const AppState st = AppState::from_query("?target=5000&neuron=features.28:25&k=3", &errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_FALSE(e.apply_state(st));
  ASSERT_TRUE(e.wait_idle(60));
  s = e.snapshot();
  EXPECT_NE(s->error.find("target=5000"), std::string::npos) << s->error;
  EXPECT_EQ(s->settings.graph_k, 3);
  EXPECT_EQ(s->wanted_neuron, std::make_pair(s->network()->find("features.28"), 25));
}

// The protocol as bytes (an engine in another module): a snapshot rebuilt from its message has the same numbers,
// a second message carries only the parts that changed, and a cut or damaged message is refused whole.
TEST(Engine, SnapshotsAndCommandsTravelAsBytes) {
  Engine e(Engine::Mode::Inline);
  open_tiny(e);
  const int conv43 = e.snapshot()->network()->find("conv4_3");
  e.want_layer(conv43);
  e.run_optimizer(conv43);
  e.run_flipping("epsilon");
  ASSERT_TRUE(e.wait_idle(120));
  const auto a = e.snapshot();
  ASSERT_TRUE(a->curves && !a->curves->empty() && a->flip && a->layer_maps);
  const std::vector<uint8_t> m1 = encode_snapshot(*a, nullptr);
  Snapshot r;
  decode_snapshot(m1.data(), m1.size(), r);
  // the model: the same layers from its description, without weights
  ASSERT_NE(r.network(), nullptr);
  EXPECT_FALSE(r.network()->has_weights());
  ASSERT_EQ(r.network()->size(), a->network()->size());
  for (int i = 0; i < r.network()->size(); ++i) {
    EXPECT_EQ(r.network()->layer(i).name, a->network()->layer(i).name);
    EXPECT_EQ(r.network()->layer(i).out_shape, a->network()->layer(i).out_shape);
    EXPECT_EQ(r.network()->layer(i).macs, a->network()->layer(i).macs);
  }
  EXPECT_EQ(r.network()->label(281), a->network()->label(281));
  EXPECT_EQ(r.model_name(), a->model_name());
  auto same = [](const Tensor& x, const Tensor& y) {
    return x.shape() == y.shape() && (x.empty() || test::max_abs_diff(x.data(), y.data(), x.size()) == 0.0);
  };
  EXPECT_TRUE(same(*r.logits, *a->logits));
  EXPECT_TRUE(same(r.explanation->input_relevance, a->explanation->input_relevance));
  EXPECT_EQ(r.explanation->layer_sums, a->explanation->layer_sums);
  EXPECT_EQ(r.explanation->target_class, a->explanation->target_class);
  EXPECT_EQ(r.explanation->summary, a->explanation->summary);
  EXPECT_FALSE(r.explanation->summary.empty());
  EXPECT_EQ(r.image().rgb, a->image().rgb);
  EXPECT_EQ(r.pic().view.rgb, a->pic().view.rgb);
  EXPECT_EQ(r.graph->graph.path, a->graph->graph.path);
  ASSERT_EQ(r.graph->graph.edges.size(), a->graph->graph.edges.size());
  EXPECT_EQ(r.graph->graph.edges.back().relevance, a->graph->graph.edges.back().relevance);
  EXPECT_EQ(r.graph->node_maps, a->graph->node_maps);
  EXPECT_TRUE(same(r.graph->path_heat, a->graph->path_heat));
  EXPECT_TRUE(same(r.detail->detail.conditional, a->detail->detail.conditional));
  EXPECT_TRUE(same(r.detail->detail.guided.reconstruction, a->detail->detail.guided.reconstruction));
  EXPECT_EQ(r.detail->activation, a->detail->activation);
  EXPECT_EQ(r.curves->at(0).backward_smape, a->curves->at(0).backward_smape);
  EXPECT_EQ(r.flip->result[1].lrp, a->flip->result[1].lrp);
  EXPECT_TRUE(same(r.layer_maps->relevance, a->layer_maps->relevance));
  EXPECT_EQ(r.settings.composite.name, a->settings.composite.name);
  EXPECT_EQ(r.settings.composite.rules.size(), a->settings.composite.rules.size());
  EXPECT_EQ(r.versions, a->versions);
  EXPECT_EQ(r.applied, a->applied);
  // a new neuron: the next message carries the detail and the status, not the explanation or the picture
  e.select_neuron(conv43, 5);
  ASSERT_TRUE(e.wait_idle(60));
  const auto b = e.snapshot();
  const std::vector<uint8_t> m2 = encode_snapshot(*b, a.get());
  EXPECT_LT(m2.size() * 4, m1.size()) << m2.size() << " of " << m1.size();
  const auto kept = r.explanation;
  decode_snapshot(m2.data(), m2.size(), r);
  EXPECT_EQ(r.explanation, kept);  // untouched parts stay shared
  EXPECT_EQ(r.detail->detail.index, 5);
  EXPECT_TRUE(same(r.detail->detail.conditional, b->detail->detail.conditional));
  // cut short anywhere, or a length that points past the end: refused, and the snapshot stays as it was
  const auto before = r.detail;
  for (std::size_t cut = 0; cut < m2.size(); cut += 1 + m2.size() / 300) {
    EXPECT_THROW(decode_snapshot(m2.data(), cut, r), Error) << cut;
    EXPECT_EQ(r.detail, before);
  }
  std::vector<uint8_t> bad = m1;
  for (int i = 0; i < 8; ++i) bad[bad.size() / 2 + static_cast<std::size_t>(i)] = 0xff;
  Snapshot z;
  try {
    decode_snapshot(bad.data(), bad.size(), z);
  } catch (const Error&) {
  }
  // a tensor whose shape claims far more values than the message holds is refused before anything is allocated
  // (found by the fuzzer: tests/fuzz/regressions/wire-*)
  {
    Snapshot small;
    auto logits = std::make_shared<Tensor>(std::vector<int>{2, 1});
    small.logits = logits;
    std::vector<uint8_t> m = encode_snapshot(small, nullptr);
    // the logits part: tag, present, then the shape (count, dims) — make the dims 65536 x (2^31 - 1): without the
    // check, a 560 TB allocation (std::bad_alloc, not the message's Error)
    const std::vector<uint8_t> dims{2, 0, 0, 0, 1, 0, 0, 0};
    auto at = std::search(m.begin(), m.end(), dims.begin(), dims.end());
    ASSERT_NE(at, m.end());
    const uint8_t huge[] = {0, 0, 1, 0, 255, 255, 255, 127};
    std::copy(huge, huge + 8, at);
    Snapshot into;
    EXPECT_THROW(decode_snapshot(m.data(), m.size(), into), Error);
    EXPECT_EQ(into.logits, nullptr);
  }
  // commands: every field survives; a picture travels with its pixels
  Image img;
  img.width = 2;
  img.height = 1;
  img.rgb = {1, 2, 3, 4, 5, 6};
  img.source_width = 20;
  img.source_height = 10;
  Command c(Command::Kind::LoadPicture);
  c.name = "pic.png";
  c.target = Target::contrast(3, 4);
  c.layers = {1, 5};
  c.picture = std::make_shared<const Image>(img);
  c.composite = std::make_shared<const Composite>(a->settings.composite);
  const auto bytes = encode_command(c);
  const Command d = decode_command(bytes.data(), bytes.size());
  EXPECT_EQ(d.kind, c.kind);
  EXPECT_EQ(d.name, "pic.png");
  EXPECT_EQ(d.target.kind, Target::Kind::Contrast);
  EXPECT_EQ(d.target.b, 4);
  EXPECT_EQ(d.layers, c.layers);
  ASSERT_TRUE(d.picture && d.composite);
  EXPECT_EQ(d.picture->rgb, img.rgb);
  EXPECT_EQ(d.picture->shown_width(), 20);
  EXPECT_EQ(d.composite->to_compact(*a->network(), "epsilon"), a->settings.composite.to_compact(*a->network(), "epsilon"));
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) EXPECT_THROW(decode_command(bytes.data(), cut), Error) << cut;
  // an engine fed only by messages gives the same picture as one called directly
  Engine f(Engine::Mode::Inline);
  Command lm(Command::Kind::LoadModelFile);
  lm.path = test::source_path(kTiny);
  Command li(Command::Kind::LoadImageFile);
  li.path = test::source_path(kCat);
  li.name = "chelsea";
  for (const Command* x : {&lm, &li}) {
    const auto m = encode_command(*x);
    f.send(decode_command(m.data(), m.size()));
  }
  ASSERT_TRUE(f.wait_idle(120));
  EXPECT_TRUE(same(f.snapshot()->explanation->input_relevance, a->explanation->input_relevance));
}

// The interface's side of a worker: commands leave as bytes, snapshots come back as bytes (here the "worker" is an
// inline engine in the same test, pumped as the worker's script does).
// The sanity check runs beside the interface like any job: its steps arrive one at a time, and they are the numbers
// the sanity job gives on the same network, picture, rules and seed (what `lrpscope sanity` prints).
TEST(Engine, SanityCheckArrivesStepByStepWithTheJobsNumbers) {
  Engine e(Engine::Mode::Inline);
  open_tiny(e);
  e.set_preset("epsilon-plus-flat");
  ASSERT_TRUE(e.wait_idle(60));
  EXPECT_EQ(e.snapshot()->sanity, nullptr);
  e.run_sanity(7);
  std::size_t partial = 0;
  while (e.pump(5)) {
    const auto s = e.snapshot();
    if (s->sanity && !s->sanity->done) partial = std::max(partial, s->sanity->result.steps.size());
  }
  const auto s = e.snapshot();
  ASSERT_TRUE(s->sanity) << s->error;
  const SanityView& v = *s->sanity;
  EXPECT_TRUE(v.done);
  EXPECT_GT(partial, 1u);  // shown before the end
  EXPECT_EQ(v.seed, 7u);
  EXPECT_EQ(v.method, "epsilon-plus-flat");
  // the same check computed directly
  Workspace ws;
  ws.set_model(Network::load(test::source_path(kTiny)), true);
  Image img;
  std::string err;
  ASSERT_TRUE(Session::read_picture(test::source_path(kCat), "chelsea", &img, &err)) << err;
  ws.set_image(img, InvertMode::Auto);
  SanityOptions so;
  so.seed = 7;
  SanityJob job(ws.net, ws.pre.tensor, Composite::preset("epsilon-plus-flat", *ws.net), Target::top1(), so);
  job.run();
  const SanityResult& want = job.result();
  ASSERT_EQ(v.result.steps.size(), want.steps.size());
  EXPECT_EQ(v.result.target, want.target);
  EXPECT_EQ(v.result.target, s->explanation->target_class);
  for (std::size_t i = 0; i < want.steps.size(); ++i) {
    EXPECT_EQ(v.result.steps[i].layer, want.steps[i].layer);
    EXPECT_NEAR(v.result.steps[i].spearman, want.steps[i].spearman, 1e-6) << i;
    EXPECT_NEAR(v.result.steps[i].ssim, want.steps[i].ssim, 1e-6) << i;
    EXPECT_EQ(v.result.steps[i].predicted, want.steps[i].predicted) << i;
  }
  EXPECT_EQ(v.result.steps[1].layer, "fc8");
  EXPECT_LT(v.result.steps.back().spearman_abs, 0.9);  // the last model is make-random's: its heatmap is another
  // it travels as bytes
  Snapshot r;
  const auto m = encode_snapshot(*s, nullptr);
  decode_snapshot(m.data(), m.size(), r);
  ASSERT_TRUE(r.sanity);
  EXPECT_EQ(r.sanity->result.steps.back().heatmap, v.result.steps.back().heatmap);
  EXPECT_EQ(r.sanity->result.steps[3].spearman, v.result.steps[3].spearman);
  EXPECT_EQ(r.sanity->method, v.method);
  EXPECT_TRUE(r.sanity->done);
  // a new class is a new explanation: its sanity check is asked for again
  e.set_target(Target::cls(3));
  ASSERT_TRUE(e.wait_idle(60));
  EXPECT_EQ(e.snapshot()->sanity, nullptr);
  // a neuron clicked while the check runs is shown first, then the check goes on; Cancel stops it where it is
  e.run_sanity(7);
  for (int i = 0; i < 6; ++i) e.pump(2);
  e.select_neuron(e.snapshot()->network()->find("conv5_3"), 2);
  ASSERT_TRUE(e.wait_idle(60));
  ASSERT_TRUE(e.snapshot()->sanity && e.snapshot()->sanity->done);
  EXPECT_EQ(e.snapshot()->neuron_detail()->index, 2);
  e.run_sanity(8);
  for (int i = 0; i < 3; ++i) e.pump(2);
  e.cancel();
  ASSERT_TRUE(e.wait_idle(10));
  const auto c = e.snapshot();
  EXPECT_TRUE(!c->sanity || !c->sanity->done);
  // a seed that is not a whole number of 0 or more reaches the error line
  Command bad(Command::Kind::RunSanity);
  bad.x = -1;
  e.send(std::move(bad));
  ASSERT_TRUE(e.wait_idle(10));
  EXPECT_NE(e.snapshot()->error.find("seed"), std::string::npos) << e.snapshot()->error;
}

// What if: the picture as the model sees it, painted over, is explained again with the same class and neuron; its
// logits are those of the painted picture; Reset picture gives back the original's.
TEST(Engine, WhatIfExplainsThePaintedPictureWithTheSameSettings) {
  Engine e(Engine::Mode::Inline);
  open_tiny(e);
  const int conv43 = e.snapshot()->network()->find("conv4_3");
  e.set_target(Target::cls(3));
  e.select_neuron(conv43, 4);
  ASSERT_TRUE(e.wait_idle(60));
  const auto before = e.snapshot();
  const Tensor logits0 = *before->logits;
  Image painted = before->pic().view;
  ASSERT_FALSE(painted.empty());
  for (int y = 0; y < painted.height / 2; ++y)  // the top half black
    for (int x = 0; x < painted.width * 3; ++x) painted.rgb[static_cast<std::size_t>(y) * painted.width * 3 + x] = 0;
  ASSERT_TRUE(e.edit_view(painted));
  ASSERT_TRUE(e.wait_idle(60));
  auto s = e.snapshot();
  ASSERT_TRUE(s->error.empty()) << s->error;
  EXPECT_TRUE(s->pic().edited);
  EXPECT_EQ(s->pic().view.rgb, painted.rgb);
  EXPECT_EQ(s->image_name(), before->image_name());
  EXPECT_EQ(s->explanation->target_class, 3);
  EXPECT_EQ(s->wanted_neuron, std::make_pair(conv43, 4));
  auto net = Network::load(test::source_path(kTiny));
  const Tensor want = forward_logits(net, preprocess_view(painted, net->config()).tensor);
  ASSERT_EQ(want.size(), s->logits->size());
  EXPECT_LT(test::max_abs_diff(want.data(), s->logits->data(), want.size()), 1e-4);
  EXPECT_GT(test::max_abs_diff(logits0.data(), s->logits->data(), want.size()), 1e-3);
  // a picture of another size is refused on the error line; the painted one stays
  Image wrong = painted;
  wrong.width = wrong.height = 5;
  wrong.rgb.assign(75, 0);
  e.edit_view(wrong);
  ASSERT_TRUE(e.wait_idle(60));
  EXPECT_NE(e.snapshot()->error.find("painted picture"), std::string::npos) << e.snapshot()->error;
  EXPECT_EQ(e.snapshot()->pic().view.rgb, painted.rgb);
  e.clear_error();
  e.reset_view();
  ASSERT_TRUE(e.wait_idle(60));
  s = e.snapshot();
  EXPECT_FALSE(s->pic().edited);
  EXPECT_EQ(test::max_abs_diff(logits0.data(), s->logits->data(), logits0.size()), 0.0);
  EXPECT_EQ(s->explanation->target_class, 3);
}

TEST(Engine, RemoteEngineSeesWhatTheWorkerComputes) {
  Engine worker(Engine::Mode::Inline);
  long long from_interface = 0;
  std::shared_ptr<const Snapshot> sent;
  RemoteEngine* remote_ptr = nullptr;
  auto flush = [&] {
    auto now = worker.snapshot();
    if (now == sent) return;
    auto shown = std::make_shared<Snapshot>(*now);
    shown->applied = from_interface;
    const auto m = encode_snapshot(*shown, sent.get());
    sent = shown;
    remote_ptr->receive(m.data(), m.size());
  };
  RemoteEngine remote([&](const std::vector<uint8_t>& bytes) {
    ++from_interface;
    worker.send(decode_command(bytes.data(), bytes.size()));
    flush();
  });
  remote_ptr = &remote;
  EXPECT_EQ(remote.mode(), EngineApi::Mode::Remote);
  remote.load_model_file(test::source_path(kTiny));
  remote.load_image_file(test::source_path(kCat), "chelsea");
  EXPECT_TRUE(remote.snapshot()->working);  // queued in the worker, not computed by the call
  EXPECT_EQ(remote.snapshot()->explanation, nullptr);
  while (worker.pump(20)) flush();
  flush();
  auto s = remote.snapshot();
  ASSERT_TRUE(s->explanation && s->graph && s->detail) << s->error;
  EXPECT_EQ(s->applied, remote.posted());
  EXPECT_FALSE(s->network()->has_weights());
  // the same numbers as an engine called directly
  Engine direct(Engine::Mode::Inline);
  open_tiny(direct);
  const Tensor& a = s->explanation->input_relevance;
  const Tensor& b = direct.snapshot()->explanation->input_relevance;
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(test::max_abs_diff(a.data(), b.data(), a.size()), 0.0);
  // a command the interface sent is in the snapshot once the worker applied it
  remote.set_target(Target::cls(3));
  while (worker.pump(20)) flush();
  flush();
  EXPECT_EQ(remote.snapshot()->settings.target.a, 3);
  EXPECT_EQ(remote.snapshot()->explanation->target_class, 3);
  // a picture file is read where it is (this side) and travels decoded; one that cannot be opened says why, in order
  remote.load_image_file("/nonexistent/dir/photo.jpg");
  while (worker.pump(20)) flush();
  flush();
  EXPECT_NE(remote.snapshot()->error.find("could not open the image 'photo.jpg'"), std::string::npos)
      << remote.snapshot()->error;
  EXPECT_EQ(remote.snapshot()->image_name(), "chelsea");
  // a damaged message: refused with a message, the last snapshot stays
  const auto before = remote.snapshot()->explanation;
  const uint8_t junk[] = {1, 2, 3};
  remote.receive(junk, sizeof junk);
  EXPECT_NE(remote.snapshot()->error.find("damaged"), std::string::npos);
  EXPECT_EQ(remote.snapshot()->explanation, before);
  // what cannot leave this module is refused, not sent
  EXPECT_FALSE(remote.load_network(nullptr, "x"));
}

#ifndef __EMSCRIPTEN__
TEST(Engine, ThreadModeGivesTheSameResultsAsInline) {
  Engine a(Engine::Mode::Inline), b(Engine::Mode::Thread);
  open_tiny(a);
  open_tiny(b);
  // commands are applied in order: the last target wins
  b.set_target(Target::cls(1));
  b.set_target(Target::cls(2));
  a.set_target(Target::cls(2));
  ASSERT_TRUE(a.wait_idle(60));
  ASSERT_TRUE(b.wait_idle(60));
  const auto sa = a.snapshot(), sb = b.snapshot();
  ASSERT_TRUE(sa->explanation && sb->explanation);
  EXPECT_EQ(sb->explanation->target_class, 2);
  EXPECT_EQ(sb->settings.target.a, 2);
  const Tensor& ra = sa->explanation->input_relevance;
  const Tensor& rb = sb->explanation->input_relevance;
  ASSERT_EQ(ra.size(), rb.size());
  EXPECT_EQ(test::max_abs_diff(ra.data(), rb.data(), ra.size()), 0.0);
  ASSERT_TRUE(sa->graph && sb->graph);
  EXPECT_EQ(sa->graph->graph.nodes.size(), sb->graph->graph.nodes.size());
  EXPECT_EQ(sa->graph->graph.path, sb->graph->graph.path);
}

// The interface thread asks for snapshots while a full-size VGG16 is explained on the engine thread: it is never
// held up (the engine holds the lock only to swap a pointer), it sees progress, and Cancel stops the work at the
// next slice.
TEST(Engine, InterfaceNeverWaitsWhileAFullSizeExplanationRuns) {
  const VggSpec spec = VggSpec::vgg16();
  auto net = Network::from_tensors(spec, ModelConfig::imagenet(), random_vgg_tensors(spec, 3));
  Engine e(Engine::Mode::Thread);
  e.load_network(net, "random-vgg16");
  net.reset();
  e.load_image_file(test::source_path(kCat), "chelsea");
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  double worst_ms = 0;
  long long calls = 0;
  std::vector<double> progress;
  bool had_explanation = false;
  for (;;) {
    const auto c0 = clock::now();
    const auto s = e.snapshot();
    worst_ms = std::max(worst_ms, std::chrono::duration<double, std::milli>(clock::now() - c0).count());
    ++calls;
    if (progress.empty() || s->progress != progress.back()) progress.push_back(s->progress);
    if (s->explanation) had_explanation = true;
    if (s->applied == e.posted() && !s->working) break;
    ASSERT_LT(std::chrono::duration<double>(clock::now() - t0).count(), 600.0) << "the explanation did not finish";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a frame's drawing
  }
  const double total_s = std::chrono::duration<double>(clock::now() - t0).count();
  const auto s = e.snapshot();
  EXPECT_TRUE(s->error.empty()) << s->error;
  EXPECT_TRUE(had_explanation && s->graph && s->detail);
  // compute took seconds; no snapshot took more than a sliver of a frame
  std::printf("full-size explanation on the engine thread: %.1f s, %lld snapshots, slowest %.3f ms, %zu progress steps\n",
              total_s, calls, worst_ms, progress.size());
  EXPECT_GT(total_s, 0.5);
  EXPECT_LT(worst_ms, 20.0);
  EXPECT_GE(progress.size(), 5u);  // the interface saw the work advance, not one jump at the end
  // Cancel takes effect at the next slice: once applied, nothing runs
  e.set_target(Target::cls(1));
  e.cancel();
  ASSERT_TRUE(e.wait_idle(60));
  EXPECT_FALSE(e.snapshot()->busy);
  EXPECT_EQ(e.snapshot()->explanation, nullptr);  // the new target's explanation was cancelled, not half shown
}
#endif

}  // namespace
}  // namespace lrp::app
