// bench_peers helper: times onnxruntime-web (WebAssembly SIMD, one thread) on an ONNX model in Node, and
// onnxruntime-node (native CPU, one thread) when it is installed. Prints one JSON line.
// Usage: node time_onnxruntime_web.mjs MODEL.onnx RUNS NODE_MODULES_DIR
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [modelPath, runsArg, modules] = process.argv.slice(2);
const runs = Number(runsArg || 5);
const require = createRequire(path.join(path.resolve(modules), 'x.js'));
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s[s.length >> 1]; };

async function timeIt(ort, providers) {
  const session = await ort.InferenceSession.create(fs.readFileSync(modelPath), {
    executionProviders: providers, intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const input = new ort.Tensor('float32', new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i) * 0.5), [1, 3, 224, 224]);
  await session.run({ input });
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run({ input });
    t.push(performance.now() - t0);
  }
  return median(t);
}

const out = {};
const web = require('onnxruntime-web');
web.env.wasm.numThreads = 1;
web.env.wasm.simd = true;
out.onnxruntime_web_version = JSON.parse(fs.readFileSync(path.join(modules, 'onnxruntime-web', 'package.json'), 'utf8')).version;
out.onnxruntime_web_forward_ms = await timeIt(web, ['wasm']);
try {
  const native = require('onnxruntime-node');
  out.onnxruntime_node_forward_ms = await timeIt(native, ['cpu']);
} catch (e) {
  out.onnxruntime_node_error = String(e.message || e).split('\n')[0];
}
console.log(JSON.stringify(out));
