// Options shared by the explaining subcommands (explain, and later conditional, optimize, graph, deconv, flip):
// --model --image --composite|--rules --target|--contrast --maxpool --method --invert --threads.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "cli/args.h"
#include "explain/composite.h"
#include "explain/explanation.h"
#include "explain/workspace.h"
#include "model/forward.h"
#include "model/image.h"
#include "model/network.h"

namespace lrp::cli {

// The option names every explaining command accepts.
std::set<std::string> explain_value_options();

// The workspace the options describe, its forward pass run, with the rules and target to explain.
struct Opened : Workspace {
  Composite composite;
  ExplainOptions opt;
};

// Loads the model and image, runs the forward pass, reads composite / target / method options.
Opened open_workspace(const Args& a);

// "lrp", or the name of a gradient-family composite (those that start from 1), for the output.
std::string method_of(const Composite& c);

}  // namespace lrp::cli
