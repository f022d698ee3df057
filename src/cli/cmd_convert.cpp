#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "engine/error.h"
#include "model/convert.h"
#include "model/network.h"
#include "model/weight_store.h"

namespace lrp::cli {

int cmd_convert(const Argv& argv) {
  Args a(argv, {"model", "out", "dtype", "shard-mb", "threads"}, {});
  const std::string in = a.require("model"), out = a.require("out");
  const StoreType type = parse_store_type(a.get("dtype", "f16"));
  const long long shard_mb = a.get_int64("shard-mb", 0);
  if (shard_mb < 0 || shard_mb > 100000) throw Error("--shard-mb must be between 0 and 100000");
  WeightStore ws = WeightStore::open(in);
  Network::from_weights(ws, in);  // refuse to convert what we could not run
  ConvertResult r = convert_weights(ws, out, type, static_cast<std::size_t>(shard_mb) * 1000 * 1000, WeightStore::files_of(in));
  std::printf("wrote %zu file(s), %.1f MB of tensor data:\n", r.files.size(), r.bytes / 1e6);
  for (const auto& f : r.files) std::printf("  %s\n", f.c_str());
  // check: the converted checkpoint loads
  Network::load(r.files.size() == 1 ? r.files[0] : r.files.back());
  return 0;
}

}  // namespace lrp::cli
