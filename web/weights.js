// Weights from a URL, streamed straight into an engine module's memory, with progress, cancel and a cache (the
// Cache Storage). Shared by the page (an engine in the page's module) and the engine's Web Worker (engine-worker.js),
// so the weights go where the engine is. env: { module() (the engine's Emscripten module), base (the URL relative
// ones are read against), progress(active, loaded, total, speed, what), error(text), addShard(name, ptr, size),
// loadShards(indexJson, url, totalBytes) -> 1/0, loadBuffer(ptr, size, url) -> 1/0, done(lastLoad) }.
'use strict';

self.lrpscopeWeights = function (env) {
  let controller = null;
  const CACHE = 'lrpscope-models-v1';
  const progressToApp = env.progress, appError = env.error;

  // The Cache Storage refuses single entries of several hundred MB, so weights are cached in 64 MB parts plus a
  // small manifest, all keyed by the URL with an extra query parameter.
  const PART = 64 << 20;
  const partKey = (url, i) => url + (url.includes('?') ? '&' : '?') + 'lrpscope-part=' + i;

  async function cacheRead(cache, url, what, stats) {
    const manResp = await cache.match(partKey(url, 'manifest'));
    if (!manResp) return null;
    const man = await manResp.json();
    const { size, parts } = man;
    if (!await cacheFresh(url, man, stats.signal)) {
      await cacheEvict(cache, url, parts);
      return null;
    }
    const M = env.module();
    const ptr = M._malloc(size);
    if (!ptr) throw new Error(`not enough memory for ${Math.round(size / 1e6)} MB of weights in this tab: ` +
                              'try an F16 or int8 copy (lrpscope convert)');
    let off = 0;
    for (let i = 0; i < parts; i++) {
      if (stats.signal && stats.signal.aborted) { M._free(ptr); throw new DOMException('cancelled', 'AbortError'); }
      const r = await cache.match(partKey(url, i));
      if (!r) { M._free(ptr); return null; }
      const buf = new Uint8Array(await r.arrayBuffer());
      if (off + buf.length > size) { M._free(ptr); return null; }
      M.HEAPU8.set(buf, ptr + off);
      off += buf.length;
      progressToApp(true, stats.base + off, stats.total || size, (stats.base + off) / Math.max(1e-3, (performance.now() - stats.t0) / 1000),
                    what + ' (from the browser cache)');
    }
    if (off !== size) { M._free(ptr); await cacheEvict(cache, url, parts); return null; }
    return { ptr, size, manifest: man };
  }

  // The parts are written before the engine reads the weights (it takes over their memory); the manifest, which
  // is what makes an entry visible, only after the engine accepted them (cacheCommit), so a broken download is
  // never served from the cache. The manifest keeps the length and the server's validators (ETag,
  // Last-Modified) for revalidation.
  async function cacheWrite(cache, url, ptr, size, validators) {
    const M = env.module();
    const parts = Math.ceil(size / PART);
    try {
      for (let i = 0; i < parts; i++) {
        const a = ptr + i * PART, b = ptr + Math.min(size, (i + 1) * PART);
        await cache.put(partKey(url, i), new Response(M.HEAPU8.slice(a, b)));
      }
      return { cache, url, manifest: { size, parts, ...validators } };
    } catch (e) {
      console.warn('could not cache ' + url + ': ' + e);
      await cacheEvict(cache, url, parts);
      return null;
    }
  }
  async function cacheEvict(cache, url, parts) {
    try { await cache.delete(partKey(url, 'manifest')); } catch (x) { /* gone */ }
    for (let i = 0; i < (parts || 0); i++) { try { await cache.delete(partKey(url, i)); } catch (x) { /* gone */ } }
  }
  async function cacheCommit(pending, ok) {
    for (const p of pending) {
      if (!p) continue;
      if (ok) await p.cache.put(partKey(p.url, 'manifest'), new Response(JSON.stringify(p.manifest)));
      else await cacheEvict(p.cache, p.url, p.manifest.parts);
    }
  }
  // Is the cached copy still the server's? A HEAD request when online; a changed length or validator evicts it.
  async function cacheFresh(url, man, signal) {
    if (navigator.onLine === false) return true;
    try {
      const r = await fetch(url, { method: 'HEAD', signal, cache: 'no-store' });
      if (!r.ok) return true;  // the server says nothing useful: keep what we have
      const len = Number(r.headers.get('Content-Length')) || 0, etag = r.headers.get('ETag') || '',
            lm = r.headers.get('Last-Modified') || '';
      if (len && len !== man.size) return false;
      if (etag && man.etag && etag !== man.etag) return false;
      if (lm && man.lastModified && lm !== man.lastModified) return false;
      return true;
    } catch (e) {
      return true;  // offline or refused: the cached copy is all there is
    }
  }

  // Downloads url (from the Cache Storage when it holds it) into a malloc'd block of the WebAssembly memory.
  async function download(url, what, signal, stats) {
    const t0 = performance.now();
    let cache = null;
    try { cache = self.caches ? await caches.open(CACHE) : null; } catch (e) { cache = null; }
    if (cache) {
      const hit = await cacheRead(cache, url, what, stats);
      if (hit) {
        stats.base += hit.size;
        stats.ms = performance.now() - t0;
        hit.pending = { cache, url, manifest: hit.manifest };  // evicted if the engine refuses it
        return hit;
      }
    }
    stats.fromCache = false;
    const resp = await fetch(url, { signal });
    if (!resp.ok) throw new Error(`could not download ${url}: HTTP ${resp.status} ${resp.statusText}`);
    const total = Number(resp.headers.get('Content-Length')) || 0;
    const M = env.module();
    let ptr = 0;
    if (total) {
      ptr = M._malloc(total);
      if (!ptr) throw new Error(`not enough memory for ${Math.round(total / 1e6)} MB of weights in this tab: ` +
                                'try an F16 or int8 copy (lrpscope convert)');
    }
    const chunks = [];
    let loaded = 0, last = 0;
    const reader = resp.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (signal.aborted) throw new DOMException('cancelled', 'AbortError');
        if (total) {
          if (loaded + value.length > total) throw new Error('the server sent more bytes than it announced');
          M.HEAPU8.set(value, ptr + loaded);
        } else {
          chunks.push(value);
        }
        loaded += value.length;
        const now = performance.now();
        if (now - last > 100) {
          last = now;
          progressToApp(true, stats.base + loaded, stats.total || total, (stats.base + loaded) / Math.max(1e-3, (now - stats.t0) / 1000), what);
        }
      }
    } catch (e) {
      if (ptr) M._free(ptr);
      throw e;
    }
    if (total && loaded !== total) {
      M._free(ptr);
      throw new Error(`the download of ${url} was cut short (${loaded} of ${total} bytes)`);
    }
    if (!total) {
      ptr = M._malloc(loaded);
      if (!ptr) throw new Error(`not enough memory for ${Math.round(loaded / 1e6)} MB of weights in this tab`);
      let off = 0;
      for (const c of chunks) { M.HEAPU8.set(c, ptr + off); off += c.length; }
    }
    let pending = null;
    if (cache) {
      progressToApp(true, stats.base + loaded, stats.total || loaded, 0, 'keeping a copy in the browser cache');
      pending = await cacheWrite(cache, url, ptr, loaded,
                                 { etag: resp.headers.get('ETag') || '', lastModified: resp.headers.get('Last-Modified') || '' });
      stats.cached = !!pending;
    }
    stats.base += loaded;
    stats.ms = performance.now() - t0;
    return { ptr, size: loaded, pending };
  }

  async function loadModelUrl(url) {
    if (controller) controller.abort();
    controller = new AbortController();
    const signal = controller.signal;
    const abs = new URL(url, env.base).href;
    const name = abs.split('/').pop().split('?')[0];
    const stats = { base: 0, total: 0, t0: performance.now(), fromCache: true, signal };
    const pending = [];  // cache entries that become visible (or are evicted) once the engine has read them
    let ok = 0;
    try {
      if (/\.json$/i.test(name)) {
        const r = await fetch(abs, { signal });
        if (!r.ok) throw new Error(`could not download ${abs}: HTTP ${r.status} ${r.statusText}`);
        const indexText = await r.text();
        let map;
        try { map = JSON.parse(indexText).weight_map; } catch (e) { throw new Error('the shard index is not valid JSON'); }
        const files = [...new Set(Object.values(map || {}))];
        if (!files.length) throw new Error('the shard index names no shards');
        for (const f of files) {
          if (f.includes('/') || f.includes('..')) throw new Error(`bad shard name ${f}`);
          const d = await download(new URL(f, abs).href, `downloading ${f}`, signal, stats);
          pending.push(d.pending);
          env.addShard(f, d.ptr, d.size);
        }
        ok = env.loadShards(indexText, abs, stats.base);
      } else {
        const { ptr, size, pending: p } = await download(abs, `downloading ${name}`, signal, stats);
        pending.push(p);
        progressToApp(true, size, size, 0, 'preparing the weights');
        await new Promise((res) => setTimeout(res, 0));
        ok = env.loadBuffer(ptr, size, abs);
      }
      await cacheCommit(pending, !!ok);
      env.done({ url: abs, ok: !!ok, fromCache: stats.fromCache, bytes: stats.base, ms: performance.now() - stats.t0 });
      return ok;
    } catch (e) {
      await cacheCommit(pending, false).catch(() => {});
      const text = e.name === 'AbortError' ? 'download cancelled; the previous model is still loaded' : String(e.message || e);
      appError(text);
      env.done({ url: abs, ok: false, error: text });
      return 0;
    } finally {
      progressToApp(false, 0, 0, 0, '');
      controller = null;
    }
  }

  return { loadModelUrl, cancel: () => { if (controller) controller.abort(); } };
};
