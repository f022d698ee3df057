#!/usr/bin/env bash
# Developer tool (not run by CI): lrpscope side by side with ONNX Runtime Web (WebAssembly SIMD, 1 thread, in Node),
# ONNX Runtime native (onnxruntime-node, 1 thread, if its npm package runs here) and PyTorch CPU (Debian's
# python3-torch, 1 thread) on the same full-size VGG16 weights at 224x224, in one run. Prints a table with ratios.
#   tools/bench_peers.sh [--runs N]
# Needs: scripts/setup and scripts/build done; network access to the npm registry the first time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=5
[ "${1:-}" = "--runs" ] && RUNS="$2"
WORK="$ROOT/.deps/peers"
mkdir -p "$WORK"
export NODE_PATH=/usr/share/nodejs
CLI="$ROOT/build/native/lrpscope"
W="$WORK/vgg16.safetensors"
[ -f "$W" ] || "$CLI" make-random --arch vgg16 --seed 1 --out "$W" --threads 2 >/dev/null
if [ ! -d "$WORK/node_modules/onnxruntime-web" ]; then
  (cd "$WORK" && npm init -y >/dev/null && npm install --no-audit --no-fund onnxruntime-web onnxruntime-node >/dev/null 2>&1 ||
   npm install --no-audit --no-fund onnxruntime-web >/dev/null)
fi
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(date -u +%F)" >&2
PT=$(/usr/bin/python3 "$ROOT/tools/peers/export_and_time_pytorch.py" "$W" "$WORK/vgg16.onnx" "$RUNS")
ORT=$(node --no-experimental-fetch "$ROOT/tools/peers/time_onnxruntime_web.mjs" "$WORK/vgg16.onnx" "$RUNS" "$WORK/node_modules")
N1=$("$ROOT/scripts/bench" --target native --threads 1 --model "$W" --runs "$RUNS" --json)
W1=$("$ROOT/scripts/bench" --target wasm --threads 1 --model "$W" --runs "$RUNS" --json)
/usr/bin/python3 - "$PT" "$ORT" "$N1" "$W1" <<'PY'
import json, sys
pt, ort, n1, w1 = (json.loads(a) for a in sys.argv[1:5])
web = ort['onnxruntime_web_forward_ms']
nat = ort.get('onnxruntime_node_forward_ms')
rows = [
    ('WebAssembly forward', w1['forward_ms'], 'onnxruntime-web forward', web, 0.5),
    ('WebAssembly forward + montavon LRP', w1['forward_ms'] + w1['explain_ms']['montavon'], 'onnxruntime-web forward', web, 1.0),
    ('WebAssembly forward + epsilon-gamma-box LRP', w1['forward_ms'] + w1['explain_ms']['epsilon-gamma-box'], 'onnxruntime-web forward', web, None),
    ('native forward', n1['forward_ms'], 'PyTorch CPU forward', pt['pytorch_forward_ms'], None),
    ('native forward + montavon LRP', n1['forward_ms'] + n1['explain_ms']['montavon'], 'PyTorch forward+backward (gradient x input)', pt['pytorch_forward_backward_ms'], None),
]
if nat:
    rows.insert(3, ('native forward', n1['forward_ms'], 'onnxruntime-node forward', nat, 1.0))
print(f"onnxruntime-web {ort['onnxruntime_web_version']}, torch {pt['torch']}; one thread; medians of the runs")
if not nat:
    print(f"(onnxruntime-node not available: {ort.get('onnxruntime_node_error', '?')})")
print(f"| lrpscope | ms | peer | ms | ratio | bar |")
print(f"|---|---:|---|---:|---:|---:|")
for a, am, b, bm, bar in rows:
    print(f"| {a} | {am:.0f} | {b} | {bm:.0f} | {am / bm:.2f} | {'<= %.2f' % bar if bar else ''} |")
PY
