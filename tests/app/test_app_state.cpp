// The state a permalink carries: every field survives to_query -> from_query; bad values are named and leave
// the rest; the compact rules encoding round-trips every rule parameter.
#include <gtest/gtest.h>

#include "app/app_state.h"
#include "engine/error.h"
#include "explain/composite.h"
#include "model/net_util.h"

namespace lrp::app {
namespace {

AppState every_field_changed() {
  AppState s;
  s.model = "https://example.org/models/vgg16 f16.safetensors";
  s.image = "fashion/coat-1";
  s.invert = "off";
  s.composite = "montavon";
  s.rules = "montavon~pool:wta~features.2:gamma,e0,g0.5,c1,x1";
  s.target = Target::contrast(3, 7);
  s.graph_layers = {"features.21", "features.28", "classifier.3"};
  s.k = 13;
  s.k_auto = false;
  s.tolerance = 7.25;
  s.atlas = "https://example.org/imagenet-vgg16.atlas";
  s.neuron = "features.28:25";
  s.view.mode = ViewMode::Negative;
  s.view.cmap = Colormap::Cividis;
  s.view.alpha = 0.37f;
  s.view.percentile = 96.5f;
  s.view.gray = false;
  s.view.nodes = 2;
  s.panel = Tab::Optimizer;
  s.embed = true;
  s.predict = true;
  s.lesson = "lessons/week 7.json";
  s.step = 4;
  return s;
}

TEST(AppState, DefaultsMakeAnEmptyQuery) { EXPECT_EQ(AppState().to_query(), ""); }

TEST(AppState, EveryFieldRoundTrips) {
  const AppState s = every_field_changed();
  const std::string q = s.to_query();
  std::vector<std::string> errors;
  const AppState back = AppState::from_query(q, &errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(back.to_json(), s.to_json()) << q;
  // each field on its own, too: no field depends on another to travel
  const AppState d;
  AppState one = d;
  one.k_auto = true;
  EXPECT_EQ(AppState::from_query(one.to_query(), nullptr).to_json(), one.to_json());
  one = d;
  one.target = Target::cls(0);
  EXPECT_EQ(AppState::from_query(one.to_query(), nullptr).to_json(), one.to_json());
  one = d;  // the cap on the optimiser's k travels with k=auto
  one.k_auto = true;
  one.cap = 9;
  EXPECT_EQ(one.to_query(), "?k=auto&cap=9");
  EXPECT_EQ(AppState::from_query(one.to_query(), nullptr).to_json(), one.to_json());
  one = d;
  for (int k = 0; k < kGraphNodeKinds; ++k) {  // every kind of graph node, by its name
    one = d;
    one.view.nodes = k;
    EXPECT_EQ(AppState::from_query(one.to_query(), nullptr).view.nodes, k) << one.to_query();
  }
  one = d;
  one.view.nodes = 3;
  EXPECT_EQ(one.to_query(), "?nodes=references");
  one = d;
  one.view.nodes = 0;
  EXPECT_EQ(one.to_query(), "?nodes=circles");
  EXPECT_EQ(AppState::from_query(one.to_query(), nullptr).to_json(), one.to_json());
}

TEST(AppState, BadValuesAreNamedAndTheRestIsKept) {
  std::vector<std::string> errors;
  const AppState s = AppState::from_query(
      "?target=-5&k=1e3&alpha=2&cmap=rainbow&mode=upside&panel=graph&composite=nope&scale=50&neuron=features.28&"
      "tolerance=nan&gray=yes&bogus=1&composite=lrp0&image=fashion%2Fbag-1",
      &errors);
  EXPECT_EQ(errors.size(), 11u);
  for (const char* part : {"target='-5'", "k='1e3'", "alpha='2'", "cmap='rainbow'", "mode='upside'", "composite='nope'",
                           "scale='50'", "neuron='features.28'", "tolerance='nan'", "gray='yes'", "unknown parameter 'bogus'"}) {
    bool found = false;
    for (const auto& e : errors) found |= e.find(part) != std::string::npos;
    EXPECT_TRUE(found) << "no error mentions " << part;
  }
  EXPECT_EQ(s.composite, "lrp0");
  EXPECT_EQ(s.image, "fashion/bag-1");
  EXPECT_EQ(s.target.kind, Target::Kind::Top1);
  EXPECT_EQ(s.k, 5);
  // a class against itself, and numbers with trailing garbage
  errors.clear();
  AppState::from_query("target=5,5", &errors);
  AppState::from_query("target=3x", &errors);
  AppState::from_query("k=7 ", &errors);
  AppState::from_query("cap=65", &errors);
  AppState::from_query("cap=-1", &errors);
  AppState::from_query("nodes=pies", &errors);
  EXPECT_EQ(errors.size(), 6u);
}

TEST(AppState, UrlEncodingRoundTrips) {
  const std::string s = "a b&c=d?e#f%g+h/i:j,k~l\xc3\xa9";
  EXPECT_EQ(url_decode(url_encode(s)), s);
  EXPECT_EQ(url_decode("a+b%20c"), "a b c");
}

TEST(CompactRules, EveryParameterRoundTrips) {
  auto net = test::tiny_network();
  Composite c = Composite::preset("epsilon-gamma-box", *net);
  std::vector<int> weighted;
  for (int i = 0; i < net->size(); ++i)
    if (net->layer(i).has_weights()) weighted.push_back(i);
  ASSERT_GE(weighted.size(), 6u);
  c.rules[weighted[0]].low = {-1.5f};
  c.rules[weighted[0]].high = {2.25f};
  c.rules[weighted[0]].low.resize(net->layer(weighted[0]).in_shape[0], -1.5f);
  c.rules[weighted[0]].high.resize(net->layer(weighted[0]).in_shape[0], 2.25f);
  c.rules[weighted[1]] = Rule::gamma_rule(0.123456789f, true);
  c.rules[weighted[2]] = Rule::alpha_beta(3.0f, 2.0f);
  c.rules[weighted[3]] = Rule::eps_rms(0.3f);
  c.rules[weighted[3]].bias = false;
  c.rules[weighted[4]] = Rule::flat();
  c.rules[weighted[5]] = Rule::wsquare();
  c.set_maxpool(PoolMode::Proportional, *net);
  c.name = "custom";
  const std::string text = c.to_compact(*net, "epsilon-gamma-box");
  const Composite back = Composite::from_compact(text, *net);
  EXPECT_EQ(back.to_json(*net), c.to_json(*net)) << text;
  EXPECT_EQ(back.name, "custom");
  // only what differs from the base travels
  EXPECT_EQ(Composite::preset("montavon", *net).to_compact(*net, "montavon"), "montavon");
  Composite nob = Composite::preset("montavon", *net);
  for (auto& r : nob.rules) r.bias = false;
  nob.name = "custom";
  EXPECT_EQ(nob.to_compact(*net, "montavon"), "montavon~bias:0");
  EXPECT_EQ(Composite::from_compact("montavon~bias:0", *net).to_json(*net), nob.to_json(*net));
  nob.rules[weighted[1]] = Rule::eps(1e-6f);
  nob.rules[weighted[1]].bias = false;
  EXPECT_EQ(nob.to_compact(*net, "montavon"), "montavon~bias:0~" + net->layer(weighted[1]).name + ":epsilon,e1e-06,r0,x0");
  // rules of the layers without weights travel too
  Composite g = Composite::preset("montavon", *net);
  const int relu = net->find("features.1"), pool = net->find("features.4");
  g.rules[relu] = Rule::defaults(RuleKind::GuidedBackprop);
  g.rules[pool] = Rule::defaults(RuleKind::Gradient);
  g.seed = Seed::One;
  g.times_input = true;
  g.name = "custom";
  const std::string gt = g.to_compact(*net, "montavon");
  EXPECT_EQ(gt, "montavon~features.1:guided~features.4:gradient~seed:one~input:1");
  EXPECT_EQ(Composite::from_compact(gt, *net).to_json(*net), g.to_json(*net));
}

TEST(CompactRules, BadTextIsRefusedWithTheReason) {
  auto net = test::tiny_network();
  for (const char* bad : {"nope", "montavon~features.99:gamma", "montavon~features.2:gamma,g-1",
                          "montavon~features.2:alphabeta,a2,n2", "montavon~features.2:sparkle", "montavon~features.2:gamma,q1",
                          "montavon~features.2:gamma,gx", "montavon~pool:sideways", "montavon~:gamma"}) {
    EXPECT_THROW(Composite::from_compact(bad, *net), Error) << bad;
  }
}

}  // namespace
// A lesson and its step travel in a link; a step that is not a number of 1 or more is named.
TEST(AppState, ALessonAndItsStepTravel) {
  AppState s;
  s.lesson = "https://course.example/week7/why a sneaker.json";
  s.step = 3;
  s.target = Target::cls(5);
  const std::string q = s.to_query();
  EXPECT_NE(q.find("lesson=https://course.example/week7/why%20a%20sneaker.json&step=3"), std::string::npos) << q;
  std::vector<std::string> errors;
  const AppState back = AppState::from_query(q, &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(back, s);
  s.step = 1;  // the first step is where a lesson opens: not written
  EXPECT_EQ(s.to_query().find("step="), std::string::npos);
  for (const char* bad : {"?lesson=x.json&step=0", "?lesson=x.json&step=-2", "?lesson=x.json&step=two", "?step=1e3"}) {
    errors.clear();
    const AppState b = AppState::from_query(bad, &errors);
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_NE(errors[0].find("step number"), std::string::npos) << errors[0];
    EXPECT_EQ(b.step, 0);
  }
}

TEST(AppState, ThePagesOwnParametersAreNotErrors) {
  std::vector<std::string> errors;
  const AppState s = AppState::from_query("?engine=inline&single&coi=1&k=3", &errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(s.k, 3);
  AppState::from_query("?engines", &errors);
  EXPECT_EQ(errors.size(), 1u);
}

}  // namespace lrp::app
