// Rules as data: every rule of the table against the independent float64 reference (tools/reference_lrp.py rules),
// layer by layer; the cheaper forms for non-negative inputs against the general forms; costs from the recipes; the
// table driving names, parameters, links and JSON.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "engine/error.h"
#include "explain/composite.h"
#include "explain/conditional.h"
#include "explain/explanation.h"
#include "explain/lrp_operator.h"
#include "explain/recipe.h"
#include "explain/weight_cache.h"
#include "model/forward.h"
#include "model/net_util.h"
#include "model/safetensors.h"
#include "model/weight_store.h"
#include "test_util.h"

using namespace lrp;
using namespace lrp::test;

namespace {

// The cases of tools/reference_lrp.py's RULE_CASES, as rules files.
struct Case {
  const char* name;
  const char* json;
};
const Case kCases[] = {
    {"gamma", R"({"base":"lrp0","default":{"rule":"gamma","gamma":0.25}})"},
    {"gamma-nobias", R"({"base":"lrp0","default":{"rule":"gamma","gamma":0.5,"bias":false}})"},
    {"gamma-classic", R"({"base":"lrp0","default":{"rule":"gamma","gamma":0.25,"classic":true}})"},
    {"alphabeta", R"({"base":"lrp0","default":{"rule":"alphabeta","alpha":2,"beta":1}})"},
    {"alphabeta-3-2-nobias", R"({"base":"lrp0","default":{"rule":"alphabeta","alpha":3,"beta":2,"bias":false}})"},
    {"zplus", R"({"base":"lrp0","default":{"rule":"zplus"}})"},
    {"epsilon-rms", R"({"base":"lrp0","default":{"rule":"epsilon","epsilon":1e-9,"rms":0.25}})"},
    {"epsilon-nobias", R"({"base":"lrp0","default":{"rule":"epsilon","epsilon":0.01,"bias":false}})"},
    {"zbox-nobias", R"({"base":"epsilon-gamma-box","layers":{"features.0":{"rule":"zbox","bias":false}}})"},
    {"lrp0-first", R"({"base":"epsilon-gamma-box","layers":{"features.0":{"rule":"lrp0"}}})"},
    {"wsquare", R"({"base":"epsilon-gamma-box","layers":{"features.0":{"rule":"wsquare"}}})"},
    {"flat", R"({"base":"epsilon-gamma-box","layers":{"features.0":{"rule":"flat"}}})"},
    {"sign", R"({"base":"epsilon-gamma-box","layers":{"features.0":{"rule":"sign"}}})"},
    {"sign-mu", R"({"base":"epsilon-gamma-box","layers":{"features.0":{"rule":"sign","mu":0.5}}})"},
    // the composites of COMPOSITE_CASES: rules for every layer kind, where the pass starts, times the input
    {"epsilon-plus", R"({"base":"epsilon-plus"})"},
    {"epsilon-gamma-sign", R"({"base":"epsilon-gamma-sign"})"},
    {"excitation-backprop", R"({"base":"excitation-backprop"})"},
    {"gradient", R"({"base":"gradient"})"},
    {"gradient-x-input", R"({"base":"gradient-x-input"})"},
    {"guided-backprop", R"({"base":"guided-backprop"})"},
    {"deconvnet", R"({"base":"deconvnet"})"},
    {"beta-smooth", R"({"base":"beta-smooth"})"},
};

std::shared_ptr<Network> tiny() {
  const std::string path = "tests/fixtures/tiny_vgg16.safetensors";
  return Network::from_weights(WeightStore::open(source_path(path)), path, 32);
}

}  // namespace

TEST(LrpRules, EveryRuleMatchesTheFloat64ReferenceLayerByLayer) {
  auto net = tiny();
  auto ref = SafetensorsFile::open(source_path("tests/fixtures/lrp_reference_rules.safetensors"));
  const std::size_t k = std::stoul(ref.metadata().at("subsample"));
  auto fwd = std::make_shared<ForwardPass>(net, ref.read("input"));
  fwd->run();
  auto cache = std::make_shared<WeightCache>(net);
  std::set<RuleKind> covered;
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(ref.has(std::string(c.name) + "/input")) << "the fixture lacks this case: run tools/reference_lrp.py rules";
    Composite comp = Composite::from_json(c.json, *net);
    for (int i = 0; i < net->size(); ++i)
      if (layer_mask(net->layer(i))) covered.insert(comp.rule(i).kind);
    Explanation ex(fwd, cache, comp, ExplainOptions{});
    ex.run();
    EXPECT_EQ(ex.target_class(), std::stoi(ref.metadata().at(std::string(c.name) + "/target")));
    Tensor rin = ref.read(std::string(c.name) + "/input");
    EXPECT_LT(rel_l2(ex.input_relevance().data(), rin.data(), rin.size()), 1e-4) << "input relevance";
    int layers = 0;
    for (int i = 0; i < net->size(); ++i) {
      const Layer& l = net->layer(i);
      const std::string key = std::string(c.name) + "/" + l.name;
      if (!ref.has(key)) continue;
      ++layers;
      const Tensor& got = ex.relevance(i);
      Tensor want = ref.read(key);
      std::vector<float> g;
      for (std::size_t j = 0; j < want.size(); ++j) g.push_back(got[got.size() <= k ? j : (j * 7919) % got.size()]);
      EXPECT_LT(rel_l2(g.data(), want.data(), want.size()), 1e-4) << l.name;
      double norm = 0;
      for (std::size_t j = 0; j < got.size(); ++j) norm += static_cast<double>(got[j]) * got[j];
      const double want_norm = std::stod(ref.metadata().at(key + "/norm"));
      EXPECT_NEAR(std::sqrt(norm), want_norm, 1e-4 * want_norm + 1e-9) << l.name << " norm";
    }
    EXPECT_GT(layers, 10);
  }
  // every rule of the table is exercised (zbox with its bias, proportional pooling by the bases)
  for (const RuleDef& d : rule_defs()) EXPECT_TRUE(covered.count(d.kind)) << d.name << " has no reference case";
  // and every preset that the presets' own fixture (test_lrp_reference.cpp) does not hold
  for (const std::string& p : Composite::preset_names()) {
    bool found = false;
    for (const Case& c : kCases) found = found || std::string(c.json).find("\"base\":\"" + p + "\"}") != std::string::npos;
    const bool in_presets_fixture = p == "epsilon-gamma-box" || p == "montavon" || p == "epsilon-plus-flat" ||
                                    p == "epsilon-alpha2-beta1" || p == "epsilon-alpha2-beta1-flat" || p == "lrp0" ||
                                    p == "epsilon";
    EXPECT_TRUE(found || in_presets_fixture) << p << " has no reference case";
  }
}

// The cheaper recipes for non-negative inputs give the general form's result, layer by layer, for batches of random
// relevances (the layers after the first: their inputs follow a ReLU).
TEST(LrpRules, FastFormsEqualTheGeneralForms) {
  auto net = tiny_network(3, tiny_spec(32));
  std::mt19937 rng(4);
  std::normal_distribution<float> nd;
  Tensor x({3, 32, 32});
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = nd(rng);
  auto fwd = std::make_shared<ForwardPass>(net, x);
  fwd->run();
  auto cache = std::make_shared<WeightCache>(net);
  for (Rule r : {Rule::gamma_rule(0.25f), Rule::gamma_rule(0.7f), Rule::alpha_beta(2, 1), Rule::alpha_beta(3, 2), Rule::zplus()}) {
    for (bool bias : {true, false}) {
      r.bias = bias;
      SCOPED_TRACE(r.describe());
      Composite c = Composite::preset("lrp0", *net);
      for (int i = 0; i < net->size(); ++i)
        if (net->layer(i).has_weights()) c.rules[static_cast<std::size_t>(i)] = r;
      LrpOperator fast(fwd, cache, c, nullptr), general(fwd, cache, c, nullptr);
      general.use_general_recipes(true);
      int compared = 0;
      for (int i = 1; i < net->size(); ++i) {
        const Layer& l = net->layer(i);
        if (!l.has_weights()) continue;
        const Recipe rf = fast.recipe(i), rg = general.recipe(i);
        EXPECT_EQ(rg.form, "general");
        if (r.kind != RuleKind::ZPlus) {
          EXPECT_EQ(rf.form.rfind("non-negative inputs", 0), 0u) << l.name << ": " << rf.form;
          EXPECT_LT(rf.products.size(), rg.products.size()) << l.name;
        }
        // (every layer here but the last passes through a ReLU to a rule that multiplies by its input)
        EXPECT_EQ(fast.zero_below(i), i + 1 < net->size() && net->layer(i + 1).kind == LayerKind::ReLU) << l.name;
        if (fast.zero_below(i) && r.kind == RuleKind::Gamma) EXPECT_EQ(rf.terms.size(), 1u) << describe(rf);
        const int batch = 3;
        std::vector<int> shape = l.out_shape;
        shape.insert(shape.begin(), batch);
        Tensor rout(shape);
        // random relevance; where the fast form relies on it, zero where the layer's output is not positive (what
        // every relevance from above is there)
        const Tensor& z = fwd->output(i);
        for (std::size_t j = 0; j < rout.size(); ++j)
          rout[j] = fast.zero_below(i) && z[j % z.size()] <= 0.0f ? 0.0f : nd(rng);
        Tensor a, b;
        fast.apply(i, rout, batch, a);
        general.apply(i, rout, batch, b);
        ASSERT_EQ(a.size(), b.size());
        // (two float32 evaluations, each ~1e-5..1e-4 from float64 where denominators nearly cancel)
        EXPECT_LT(rel_l2(a.data(), b.data(), a.size()), 3e-4) << l.name;
        ++compared;
      }
      EXPECT_GT(compared, 5);
    }
  }
}

// What the simplified recipes rely on holds: in an explanation, the relevance each such layer receives is zero
// wherever its output is not positive; and the explanation equals the one from the general recipes.
TEST(LrpRules, RelevanceIsZeroWhereTheSimplifiedRecipesAssumeIt) {
  auto net = tiny();
  Tensor x({3, 32, 32});
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
  auto fwd = std::make_shared<ForwardPass>(net, x);
  fwd->run();
  auto cache = std::make_shared<WeightCache>(net);
  for (const char* preset : {"epsilon-gamma-box", "epsilon-plus", "epsilon-alpha2-beta1", "excitation-backprop", "mixed"}) {
    SCOPED_TRACE(preset);
    // mixed: epsilon-gamma-box with the flat rule on a middle convolution (the layer below it gets relevance
    // where its output is not positive)
    Composite c = Composite::preset(std::string(preset) == "mixed" ? "epsilon-gamma-box" : preset, *net);
    if (std::string(preset) == "mixed") c.rules[static_cast<std::size_t>(net->find("features.5"))] = Rule::flat();
    Explanation fast(fwd, cache, c, ExplainOptions{});
    fast.run();
    int checked = 0;
    for (int i = 0; i < net->size(); ++i) {
      if (!net->layer(i).has_weights() || !fast.op().zero_below(i)) continue;
      const Tensor& r = fast.relevance(i);
      const Tensor& z = fwd->output(i);
      ASSERT_EQ(r.size(), z.size());
      for (std::size_t j = 0; j < r.size(); ++j)
        if (z[j] <= 0.0f) ASSERT_EQ(r[j], 0.0f) << net->layer(i).name << " at " << j;
      ++checked;
    }
    if (std::string(preset) == "epsilon-gamma-box") EXPECT_GE(checked, 10);
    LrpOperator general(fwd, cache, c, nullptr);
    general.use_general_recipes(true);
    const int top = net->size() - 1;
    Tensor r = fast.relevance(top);
    std::vector<int> shape = r.shape();
    shape.insert(shape.begin(), 1);
    r.reshape(shape);
    const Tensor g = propagate(general, top, r, -1);
    ASSERT_EQ(g.size(), fast.input_relevance().size());
    EXPECT_LT(rel_l2(fast.input_relevance().data(), g.data(), g.size()), 3e-4);
  }
}

TEST(LrpRules, CostsAreTheRecipesProductsAndTerms) {
  auto net = tiny();
  Tensor x({3, 32, 32});
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));  // signed
  auto fwd = std::make_shared<ForwardPass>(net, x);
  fwd->run();
  auto cache = std::make_shared<WeightCache>(net);
  const int first = 0, second = net->find("features.2");
  ASSERT_TRUE(net->layer(first).has_weights());
  const long long m0 = net->layer(first).macs, m1 = net->layer(second).macs;
  auto costs = [&](Rule r, int layer) {
    Composite c = Composite::preset("lrp0", *net);
    c.rules[static_cast<std::size_t>(layer)] = r;
    LrpOperator op(fwd, cache, c, nullptr);
    return std::make_pair(op.build_macs(layer), op.apply_macs(layer));
  };
  // zB: two products (the bounds), three terms
  EXPECT_EQ(costs(Rule::zbox(), first), std::make_pair(2 * m0, 3 * m0));
  // alpha-beta on signed inputs: four products and four terms; after a ReLU: one product, two terms
  EXPECT_EQ(costs(Rule::alpha_beta(2, 1), first), std::make_pair(4 * m0, 4 * m0));
  EXPECT_EQ(costs(Rule::alpha_beta(2, 1), second), std::make_pair(1 * m1, 2 * m1));
  // gamma on signed inputs: four and four (two and two without its z < 0 half); after a ReLU: one and two, and one
  // and one when the relevance it gets is
  // zero where its output is not positive (its ReLU passes relevance from a rule that multiplies by its input: lrp0
  // here, not the flat rule)
  EXPECT_EQ(costs(Rule::gamma_rule(0.25f), first), std::make_pair(2 * m0, 2 * m0));  // (its z < 0 half goes)
  EXPECT_EQ(costs(Rule::gamma_rule(0.25f), second), std::make_pair(1 * m1, 1 * m1));
  {
    Composite c = Composite::preset("lrp0", *net);
    c.rules[static_cast<std::size_t>(second)] = Rule::gamma_rule(0.25f);
    int above = second + 1;
    while (!net->layer(above).has_weights()) ++above;
    c.rules[static_cast<std::size_t>(above)] = Rule::flat();
    LrpOperator op(fwd, cache, c, nullptr);
    EXPECT_FALSE(op.zero_below(second));
    EXPECT_EQ(std::make_pair(op.build_macs(second), op.apply_macs(second)), std::make_pair(1 * m1, 2 * m1));
  }
  EXPECT_EQ(costs(Rule::zplus(), second), std::make_pair(1 * m1, 1 * m1));
  EXPECT_EQ(costs(Rule::eps(1e-6f), second), std::make_pair(0LL, 1 * m1));
  EXPECT_EQ(costs(Rule::sign(), first), std::make_pair(0LL, 1 * m0));
  EXPECT_EQ(costs(Rule::flat(), first), std::make_pair(1 * m0, 1 * m0));
}

TEST(LrpRules, TheTableDrivesNamesParametersLinksAndJson) {
  auto net = tiny();
  std::set<std::string> names;
  std::set<char> letters;
  for (const ParamDef& p : param_defs()) {
    EXPECT_EQ(&param_def(p.id), &p);
    if (p.id != Param::Stabiliser) EXPECT_TRUE(letters.insert(p.letter).second) << p.key;
    EXPECT_GT(std::string(p.help).size(), 20u) << p.key;
  }
  int k = 0;
  for (const RuleDef& d : rule_defs()) {
    EXPECT_EQ(static_cast<int>(d.kind), k++);
    EXPECT_TRUE(names.insert(d.name).second);
    EXPECT_EQ(parse_rule_name(d.name), d.kind);
    for (const char* a : d.aliases) EXPECT_EQ(parse_rule_name(a), d.kind) << a;
    EXPECT_GT(std::string(d.summary).size(), 20u) << d.name;
    EXPECT_EQ(d.defaults.kind, d.kind);
    EXPECT_NO_THROW(d.defaults.validate()) << d.name;
    EXPECT_EQ(d.recipe != nullptr, (d.layers & kWeighted) != 0) << d.name;
    // every rule on the first layer it applies to, with each parameter moved off its default: JSON and the link
    // form read back
    int layer = -1;
    for (int i = 0; i < net->size() && layer < 0; ++i)
      if (rule_applies(d.kind, layer_mask(net->layer(i)))) layer = i;
    ASSERT_GE(layer, 0) << d.name;
    Rule r = d.defaults;
    for (Param q : d.params) {
      const ParamDef& pd = param_def(q);
      r.set(q, pd.boolean ? 1.0f - r.get(q) : r.get(q) + 0.375f);
      if (d.edited) d.edited(r, q);
    }
    r.bias = false;
    ASSERT_NO_THROW(r.validate()) << r.describe();
    Composite c = Composite::preset("epsilon-gamma-box", *net);
    c.rules[static_cast<std::size_t>(layer)] = r;
    EXPECT_EQ(Composite::from_json(c.to_json(*net), *net).rule(layer), r) << d.name << ": " << c.to_json(*net);
    const std::string link = c.to_compact(*net, "epsilon-gamma-box");
    EXPECT_EQ(Composite::from_compact(link, *net).rule(layer), r) << link;
    // and a layer of another kind refuses it, naming the rules that apply there
    for (int i = 0; i < net->size(); ++i) {
      if (!layer_mask(net->layer(i)) || rule_applies(d.kind, layer_mask(net->layer(i)))) continue;
      const std::string bad = "epsilon-gamma-box~" + net->layer(i).name + ":" + d.name;
      try {
        Composite::from_compact(bad, *net);
        ADD_FAILURE() << bad;
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("does not apply to"), std::string::npos) << e.what();
      }
      break;
    }
    EXPECT_NE(r.describe().find(d.name), std::string::npos);
  }
  EXPECT_EQ(k, kRuleKinds);
  // a rule names only its own parameters in links and JSON
  Composite c = Composite::preset("epsilon-gamma-box", *net);
  c.rules[0] = Rule::sign(0.5f);
  EXPECT_NE(c.to_compact(*net, "epsilon-gamma-box").find("features.0:sign,e1e-06,m0.5,x1"), std::string::npos)
      << c.to_compact(*net, "epsilon-gamma-box");
  ASSERT_NE(c.to_json(*net).find("\"mu\":0.5"), std::string::npos) << c.to_json(*net);
  EXPECT_EQ(c.to_json(*net).find("\"mu\":0.5"), c.to_json(*net).rfind("\"mu\""));  // once: only features.0 has mu
  // out-of-range values name the parameter and its range
  try {
    Composite::from_json(R"({"layers":{"features.0":{"rule":"gamma","gamma":-1}}})", *net);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gamma must be >= 0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Composite::from_compact("epsilon-gamma-box~features.0:gamma,c7", *net), Error);
  // a recipe reads as text
  EXPECT_NE(describe(rule_recipe(Rule::zbox(), false)).find("low"), std::string::npos);
}
