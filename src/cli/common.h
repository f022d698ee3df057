// Helpers shared by the subcommands: loading a model and an image with the usual options.
#pragma once

#include <memory>
#include <string>

#include "cli/args.h"
#include "model/image.h"
#include "model/network.h"

namespace lrp::cli {

// The kernels the CLI's models may use: the defaults, or LRPSCOPE_WINOGRAD=0|2|4 from the environment (read here,
// where the command starts, and passed down; see KernelPolicy::parse).
KernelPolicy kernel_policy();
std::shared_ptr<Network> load_model(const Args& a);
InvertMode parse_invert(const std::string& s);
void apply_threads(const Args& a);
std::string json_escape_free(const std::string& s);

}  // namespace lrp::cli
