// lrpscope command-line tool: predict, info, make-random, bench, eval, explain and the paper's analyses.
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "cli/commands.h"
#include "engine/error.h"
#include "engine/malloc_tuning.h"

namespace {

const char* kUsage =
    "usage: lrpscope <command> [options]\n"
    "commands:\n"
    "  predict --model FILE --image IMG [--top N] [--json] [--invert auto|on|off]\n"
    "                                           top classes with probabilities and logits\n"
    "  info --model FILE                        architecture, parameters, dtype, preprocessing\n"
    "  make-random --arch vgg16 --seed S --out FILE [--width-div D] [--classes N] [--input H]\n"
    "                                           VGG with deterministic Kaiming-normal weights\n"
    "  bench [--model FILE] [--runs N] [--threads T] [--explain [--presets a,b]] [--json]\n"
    "                                           forward (and LRP) timings per layer (default: full-size VGG16)\n"
    "  eval --model FILE --fashion-mnist DIR     accuracy on the Fashion-MNIST test set\n"
    "  explain --model M --image I [--target N | --contrast A,B] [--composite NAME | --rules FILE.json]\n"
    "          [--maxpool wta|avg] [--method lrp|gradient|gradient-x-input|guided-backprop|deconvnet]\n"
    "          [--out heatmap.png] [--overlay] [--cmap NAME] [--percentile P] [--npy-dir DIR] [--json]\n"
    "                                           relevance heatmap and per-layer relevance\n"
    "  conditional --layer L --channels C1,C2 [--renormalise] [--npy-dir D] [--out PNG]   (+ explain options)\n"
    "  optimize [--layer L|all] [--tolerance T] [--score smape|mse] [--signed] [--json]\n"
    "  graph [--layers L1,L2] [--k K|auto] [--select topk|threshold|cumulative] [--out-path-heatmap PNG] [--json]\n"
    "  deconv --layer L --channel C [--mode max|all] [--guided] [--out PNG] [--npy FILE] [--crop PNG] [--json]\n"
    "  convert --model IN --out OUT.safetensors [--dtype f32|f16|bf16|int8] [--shard-mb N]\n"
    "                                           store weights smaller (int8: per-output-channel scales) or in shards\n"
    "  flip [--patch P] [--steps S] [--runs R] [--seed S] [--fraction F] [--replace mean|background|zero] [--json]\n"
    "common options: --threads T (default: 1)\n";

}  // namespace

int main(int argc, char** argv) {
  lrp::keep_freed_memory();
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "help") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  lrp::cli::Argv args(argv + 2, argv + argc);
  try {
    if (cmd == "predict") return lrp::cli::cmd_predict(args);
    if (cmd == "info") return lrp::cli::cmd_info(args);
    if (cmd == "make-random") return lrp::cli::cmd_make_random(args);
    if (cmd == "bench") return lrp::cli::cmd_bench(args);
    if (cmd == "eval") return lrp::cli::cmd_eval(args);
    if (cmd == "explain") return lrp::cli::cmd_explain(args);
    if (cmd == "conditional") return lrp::cli::cmd_conditional(args);
    if (cmd == "optimize") return lrp::cli::cmd_optimize(args);
    if (cmd == "graph") return lrp::cli::cmd_graph(args);
    if (cmd == "deconv") return lrp::cli::cmd_deconv(args);
    if (cmd == "flip") return lrp::cli::cmd_flip(args);
    if (cmd == "convert") return lrp::cli::cmd_convert(args);
    std::fprintf(stderr, "lrpscope: error: unknown command '%s'\n%s", cmd.c_str(), kUsage);
    return 2;
  } catch (const lrp::Error& e) {
    std::fprintf(stderr, "lrpscope: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "lrpscope: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lrpscope: error: %s\n", e.what());
    return 1;
  }
}
