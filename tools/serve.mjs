#!/usr/bin/env node
// A static file server for dist/ that sets the headers WebAssembly threads need (COOP/COEP) and can serve the
// site under a sub-path, like a course page would:  node tools/serve.mjs DIR [--port 8080] [--base /course/lrpscope/]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const root = path.resolve(args.find((a, i) => !a.startsWith('--') && !/^\d+$/.test(a) && !(i > 0 && ['--port', '--base', '--mount', '--corp'].includes(args[i - 1]))) || 'dist');
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const port = Number(opt('--port', process.env.PORT || 8080));
let base = opt('--base', '/');
if (!base.endsWith('/')) base += '/';
const isolate = !args.includes('--no-isolation');
// --corp cross-origin lets other origins embed the site in an isolated page (an iframe on a course platform)
const corp = opt('--corp', 'same-origin');
// --mount /prefix/=DIR serves DIR under that prefix (tests use it for model files next to the site)
const mounts = [];
args.forEach((a, i) => { if (a === '--mount') { const [pre, dir] = args[i + 1].split('='); mounts.push([pre, path.resolve(dir)]); } });
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.data': 'application/octet-stream', '.json': 'application/json', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.css': 'text/css', '.safetensors': 'application/octet-stream', '.txt': 'text/plain' };

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  let p = decodeURIComponent(url.pathname);
  let dir = root;
  const m = mounts.find(([pre]) => p.startsWith(pre));
  if (m) {
    dir = m[1];
    p = p.slice(m[0].length);
  } else {
    if (!p.startsWith(base)) { res.writeHead(404); res.end('not found'); return; }
    p = p.slice(base.length);
    if (p === '' || p.endsWith('/')) p += 'index.html';
  }
  const file = path.resolve(dir, p);
  if (!file.startsWith(dir + path.sep)) { res.writeHead(403); res.end(); return; }
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) { res.writeHead(404); res.end('not found'); return; }
    // no-cache + an ETag, as static hosts do: the browser asks again every time and gets 304 when nothing changed
    // (the threaded engine's helper threads each load its script; they get it from the cache, not the network)
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers = { 'Cache-Control': 'no-cache', 'ETag': etag };
    if (isolate) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = corp;
    }
    if ((req.headers['if-none-match'] || '').split(/\s*,\s*/).includes(etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    headers['Content-Type'] = types[path.extname(file)] || 'application/octet-stream';
    headers['Content-Length'] = st.size;
    res.writeHead(200, headers);
    fs.createReadStream(file).pipe(res);
  });
});
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  console.log(`lrpscope is served at http://127.0.0.1:${addr.port}${base}  (from ${root}; Ctrl-C stops)`);
});
