// The engine's Web Worker: the engine module with the weights, computing in slices of about SLICE_MS between
// messages, so a command from the interface takes effect within one slice. Where the page is cross-origin isolated
// (SharedArrayBuffer), the pthreads engine (lrpscope-engine-mt.js: one thread per core), else lrpscope-engine.js.
// Messages in: command (the protocol's bytes), load-url / cancel-download (weights.js downloads straight into this
// module's memory), model-file (a checkpoint the user opened), atlas-url / atlas-file (a reference atlas). Messages out: ready (which engine), atlas-missing (no default atlas to fetch), snapshot (what
// changed, as bytes), load-done, failed.
'use strict';

const SLICE_MS = 60;
let ready = false;
const queue = [];
self.onmessage = (e) => {
  queue.push(e.data);
  if (ready) drain();
};
self.Module = {
  locateFile: (p) => p,
  print: (t) => console.log(t),
  printErr: (t) => console.warn(t),
  onAbort: (what) => postMessage({ type: 'failed', text: String(what) }),
  postRun: [() => {
    ready = true;
    postMessage({ type: 'ready', threaded });
    drain();
  }],
};
importScripts('weights.js');
let threaded = self.crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined' &&
               !new URLSearchParams(self.location.search).has('single');  // (?single: for comparisons)
if (threaded) {
  // its threads load the module's own script, not this one
  self.Module.mainScriptUrlOrBlob = new URL('lrpscope-engine-mt.js', self.location.href).href;
  try {
    importScripts('lrpscope-engine-mt.js');
  } catch (e) {
    console.warn('the threaded engine is not available (' + (e.message || e) + '): using the single-threaded one');
    threaded = false;
  }
}
if (!threaded) importScripts('lrpscope-engine.js');

const M = () => self.Module;
const call = (fn, types, args) => M().ccall(fn, 'number', types, args);
const weights = self.lrpscopeWeights({
  module: M,
  base: self.location.href,
  progress: (active, loaded, total, speed, what) => {
    M().ccall('lrpscope_engine_download_progress', null, ['number', 'number', 'number', 'number', 'string'],
              [active ? 1 : 0, loaded, total, speed, what]);
    flush();
  },
  error: (text) => {
    M().ccall('lrpscope_engine_report_error', null, ['string'], [text]);
    flush();
  },
  addShard: (f, ptr, size) => call('lrpscope_engine_add_shard', ['string', 'number', 'number'], [f, ptr, size]),
  loadShards: (index, url, total) => call('lrpscope_engine_load_shards', ['string', 'string', 'number'], [index, url, total]),
  loadBuffer: (ptr, size, url) => call('lrpscope_engine_load_model_buffer', ['number', 'number', 'string'], [ptr, size, url]),
  done: (last) => {
    flush();
    postMessage({ type: 'load-done', last });
  },
});

function withBytes(bytes, fn) {
  const n = bytes.byteLength, ptr = M()._malloc(Math.max(1, n));
  if (!ptr) throw new Error('not enough memory for a message of ' + n + ' bytes');
  M().HEAPU8.set(new Uint8Array(bytes), ptr);
  try { return fn(ptr, n); } finally { M()._free(ptr); }
}

function handle(m) {
  switch (m.type) {
    case 'command':
      withBytes(m.bytes, (ptr, n) => M()._lrpscope_engine_command(ptr, n));
      break;
    case 'load-url':  // the outcome goes back in done(), after the snapshot that shows it
      weights.loadModelUrl(m.url).finally(schedule);
      break;
    case 'cancel-download':
      weights.cancel();
      break;
    case 'atlas-url':  // a reference atlas (quiet: the default model's, unused for another model)
      fetch(m.url).then((r) => {
        if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
        const n = Number(r.headers.get('content-length') || 0);
        if (n > 1024 * 1024 * 1024) throw new Error(`${Math.round(n / 1e6)} MB is more than an atlas can be (1 GB)`);
        return r.arrayBuffer();
      }).then((bytes) => {
        withBytes(bytes, (ptr, n) => call('lrpscope_engine_load_atlas', ['number', 'number', 'string', 'number'],
                                          [ptr, n, m.url, m.quiet ? 1 : 0]));
      }).catch((e) => {
        if (!m.quiet) M().ccall('lrpscope_engine_report_atlas_error', null, ['string'], [`could not download the atlas ${m.url}: ${e.message || e}`]);
        else postMessage({ type: 'atlas-missing' });
      }).finally(() => { flush(); schedule(); });
      break;
    case 'atlas-file':  // an atlas the user opened or dropped
      withBytes(m.bytes, (ptr, n) => call('lrpscope_engine_load_atlas', ['number', 'number', 'string', 'number'], [ptr, n, m.name, m.quiet ? 1 : 0]));
      break;
    case 'model-file': {
      const n = m.bytes.byteLength, ptr = M()._malloc(Math.max(1, n));
      if (!ptr) {
        M().ccall('lrpscope_engine_report_error', null, ['string'],
                  [`not enough memory for the model '${m.name}' (${Math.round(n / 1e6)} MB): try an F16 or int8 copy`]);
        break;
      }
      M().HEAPU8.set(new Uint8Array(m.bytes), ptr);
      call('lrpscope_engine_load_model_buffer', ['number', 'number', 'string'], [ptr, n, m.name]);
      break;
    }
  }
}

function drain() {
  while (queue.length) {
    try {
      handle(queue.shift());
    } catch (e) {
      M().ccall('lrpscope_engine_report_error', null, ['string'], [String(e.message || e)]);
    }
  }
  flush();
  schedule();
}

// What changed goes to the interface as one transferable buffer.
function flush() {
  const n = M()._lrpscope_engine_message();
  if (n <= 0) return;
  const p = M()._lrpscope_engine_message_data();
  const bytes = M().HEAPU8.slice(p, p + n).buffer;
  postMessage({ type: 'snapshot', bytes }, [bytes]);
}

let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  setTimeout(tick, 0);
}
function tick() {
  scheduled = false;
  const more = M()._lrpscope_engine_pump(SLICE_MS);
  flush();
  if (more) schedule();
}
