// The lrpscope subcommands. Each takes the arguments after its name and returns the exit code.
#pragma once

#include <string>
#include <vector>

namespace lrp::cli {

using Argv = std::vector<std::string>;

int cmd_predict(const Argv& args);
int cmd_info(const Argv& args);
int cmd_make_random(const Argv& args);
int cmd_bench(const Argv& args);
int cmd_eval(const Argv& args);
int cmd_atlas(const Argv& args);
int cmd_references(const Argv& args);
int cmd_explain(const Argv& args);
int cmd_conditional(const Argv& args);
int cmd_optimize(const Argv& args);
int cmd_graph(const Argv& args);
int cmd_deconv(const Argv& args);
int cmd_flip(const Argv& args);
int cmd_sanity(const Argv& args);
int cmd_convert(const Argv& args);
int cmd_rules(const Argv& args);

// Peak resident memory of the process in MB (natively), or the WebAssembly heap size.
double peak_memory_mb();

}  // namespace lrp::cli
