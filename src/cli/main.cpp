// lrpscope command-line tool: predict, info, make-random, bench, eval, explain and the paper's analyses.
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "cli/commands.h"
#include "engine/error.h"
#include "engine/malloc_tuning.h"

namespace {

struct Usage {
  const char* command;
  const char* text;  // the command's lines of the usage
};

const Usage kCommands[] = {
    {"predict",
     "  predict --model FILE --image IMG [--top N] [--json] [--invert auto|on|off]\n"
     "                                           top classes with probabilities and logits\n"},
    {"info", "  info --model FILE                        architecture, parameters, dtype, preprocessing\n"},
    {"make-random",
     "  make-random --arch vgg16 --seed S --out FILE [--width-div D] [--classes N] [--input H|HxW] [--channels 1|3]\n"
     "                                           VGG with deterministic Kaiming-normal weights\n"},
    {"bench",
     "  bench [--model FILE] [--runs N] [--threads T] [--explain [--presets a,b]] [--json]\n"
     "                                           forward (and LRP) timings per layer (default: full-size VGG16)\n"},
    {"eval", "  eval --model FILE --fashion-mnist DIR [--limit N] [--json]   accuracy on the Fashion-MNIST test set\n"},
    {"atlas",
     "  atlas --model M (--fashion-mnist DIR | --images DIR) --out ATLAS [--layers L1,L2|conv|all] [--top N]\n"
     "        [--composite C] [--limit K] [--threads T] [--json] [--quiet]\n"
     "                                           each channel's top images by activation and by relevance\n"},
    {"references",
     "  references --atlas ATLAS --layer L --channel C [--by activation|relevance] [--json] [--out grid.png [--model M]]\n"
     "                                           one channel's references from an atlas (a grid of crops; masked with --model)\n"},
    {"explain",
     "  explain --model M --image I [--target N | --contrast A,B] [--composite NAME | --rules FILE.json]\n"
     "          [--maxpool wta|avg] [--method lrp|gradient|gradient-x-input|guided-backprop|deconvnet|beta-smooth|\n"
     "          excitation-backprop]\n"
     "          [--out heatmap.png] [--overlay] [--cmap NAME] [--percentile P] [--alpha A] [--npy-dir DIR] [--json]\n"
     "                                           relevance heatmap and per-layer relevance\n"},
    {"conditional",
     "  conditional --model M --image I --layer L --channels C1,C2 [--renormalise] [--npy-dir D] [--out PNG]\n"
     "          [--json] (+ the explain options)   restricted LRP through chosen neurons\n"},
    {"optimize",
     "  optimize --model M --image I [--layer L|L1,L2|all] [--tolerance T] [--score smape|mse] [--signed]\n"
     "          [--ks 1,2,4] [--json] (+ the explain options)   how many neurons explain the decision\n"},
    {"graph",
     "  graph --model M --image I [--layers L1,L2] [--k K|auto [--cap N]] [--select topk|threshold|cumulative]\n"
     "          [--threshold T] [--fraction P] [--absolute] [--out-path-heatmap PNG] [--out-svg SVG] [--json]\n"
     "          (+ the explain options)\n"
     "                                           the neuron graph and its critical path\n"},
    {"deconv",
     "  deconv --model M --image I --layer L --channel C [--mode max|all] [--guided] [--out PNG] [--npy FILE]\n"
     "          [--crop PNG] [--json]              deconvnet / guided-backprop reconstruction of one channel\n"},
    {"convert",
     "  convert --model IN --out OUT.safetensors [--dtype f32|f16|bf16|int8] [--shard-mb N]\n"
     "                                           store weights smaller (int8: per-output-channel scales) or in\n"
     "                                           shards (OUT-00001-of-0000N.safetensors + OUT.index.json)\n"},
    {"rules", "  rules [--json]                           the LRP rules with their parameters, and the composites\n"},
    {"flip",
     "  flip --model M --image I [--patch P] [--steps S] [--runs R] [--seed S] [--fraction F]\n"
     "          [--replace mean|background|zero] [--json] (+ the explain options)   pixel flipping and AOPC\n"},
    {"sanity",
     "  sanity --model M --image I [--seed S] [--npy-dir D] [--json] (+ the explain options)\n"
     "                                           cascading model randomisation (Adebayo et al. 2018): Spearman\n"
     "                                           and SSIM of each step's heatmap against the trained model's\n"},
};

std::string usage() {
  std::string u = "usage: lrpscope <command> [options]   (lrpscope <command> --help for one command)\ncommands:\n";
  for (const auto& c : kCommands) u += c.text;
  u += "common options: --threads T (default: 1)\n"
       "explain options: --target N | --contrast A,B, --composite NAME | --rules FILE.json, --maxpool wta|avg\n";
  return u;
}

}  // namespace

int main(int argc, char** argv) {
  lrp::keep_freed_memory();
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "help") {
    std::fputs(usage().c_str(), argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  lrp::cli::Argv args(argv + 2, argv + argc);
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      for (const auto& c : kCommands)
        if (cmd == c.command) {
          std::printf("usage:\n%s", c.text);
          if (std::string(c.text).find("explain options") != std::string::npos)
            std::printf("explain options: --target N | --contrast A,B, --composite NAME | --rules FILE.json, --maxpool wta|avg\n");
          std::printf("common options: --threads T (default: 1)\n");
          return 0;
        }
    }
  try {
    if (cmd == "predict") return lrp::cli::cmd_predict(args);
    if (cmd == "info") return lrp::cli::cmd_info(args);
    if (cmd == "make-random") return lrp::cli::cmd_make_random(args);
    if (cmd == "bench") return lrp::cli::cmd_bench(args);
    if (cmd == "eval") return lrp::cli::cmd_eval(args);
    if (cmd == "atlas") return lrp::cli::cmd_atlas(args);
    if (cmd == "references") return lrp::cli::cmd_references(args);
    if (cmd == "explain") return lrp::cli::cmd_explain(args);
    if (cmd == "conditional") return lrp::cli::cmd_conditional(args);
    if (cmd == "optimize") return lrp::cli::cmd_optimize(args);
    if (cmd == "graph") return lrp::cli::cmd_graph(args);
    if (cmd == "deconv") return lrp::cli::cmd_deconv(args);
    if (cmd == "flip") return lrp::cli::cmd_flip(args);
    if (cmd == "sanity") return lrp::cli::cmd_sanity(args);
    if (cmd == "rules") return lrp::cli::cmd_rules(args);
    if (cmd == "convert") return lrp::cli::cmd_convert(args);
    std::fprintf(stderr, "lrpscope: error: unknown command '%s'\n%s", cmd.c_str(), usage().c_str());
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
