// lrpscope's page glue: the Emscripten module settings, opening images and weights (file picker, drag and drop,
// paste), downloads of exported files, and a small test hook for the browser tests.
'use strict';

(function () {
  const canvas = document.getElementById('canvas');
  const loading = document.getElementById('loading');
  const status = document.getElementById('status');
  const progress = document.getElementById('progress');

  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener('webglcontextlost', (e) => {
    e.preventDefault();
    showError('The graphics context was lost; reload the page.');
  });

  function showError(text) {
    loading.style.display = 'flex';
    loading.classList.add('error');
    status.textContent = text;
  }

  window.Module = {
    canvas,
    print: (t) => console.log(t),
    printErr: (t) => console.warn(t),
    setStatus: (t) => {
      if (!t) return;
      status.textContent = t;
      const m = t.match(/\((\d+(?:\.\d+)?)\/(\d+)\)/);
      if (m) progress.value = Number(m[1]) / Number(m[2]);
    },
    onAbort: (what) => showError('lrpscope stopped: ' + what),
  };

  let uploads = 0;
  function call(name, types, args) {
    return window.Module.ccall(name, 'number', types, args);
  }

  // Pictures are decoded by the browser's own decoders (PNG, JPEG, GIF, BMP, WebP, AVIF), upright by their EXIF
  // orientation, and reduced while they are drawn when they have more pixels than the engine keeps; only the reduced
  // RGBA pixels enter the engine's memory. The engine first checks the bytes, so that a cut or damaged file gets a
  // true message instead of a made-up picture; it decodes PPM/PGM (which browsers do not read) itself.
  // A file the engine reads by path: written into the in-memory file system for the call, removed after it (the
  // engine keeps what it needs: the weights, the rules or the decoded picture).
  function withUpload(file, data, fn) {
    const FS = window.Module.FS;
    try { FS.mkdir('/upload'); } catch (e) { /* exists */ }
    const path = '/upload/' + (uploads++) + '-' + file.name.replace(/[^A-Za-z0-9._-]/g, '_');
    FS.writeFile(path, data);
    try {
      return fn(path);
    } finally {
      FS.unlink(path);
    }
  }
  function withHeapCopy(bytes, fn) {
    const M = window.Module;
    const ptr = M._malloc(Math.max(1, bytes.length));
    try {
      M.HEAPU8.set(bytes, ptr);
      return fn(ptr);
    } finally {
      M._free(ptr);
    }
  }
  async function loadPicture(file, data, source) {
    let format = 'picture';
    const verdict = withHeapCopy(data, (ptr) => {
      format = window.Module.ccall('lrpscope_picture_format', 'string', ['number', 'number'], [ptr, data.length]);
      return window.Module.ccall('lrpscope_check_picture', 'number', ['number', 'number', 'string'], [ptr, data.length, file.name]);
    });
    if (verdict < 0) return 0;  // refused: the engine shows why
    if (verdict === 1)
      return withUpload(file, data, (path) => call('lrpscope_do_load_image_file', ['string', 'string', 'string'], [path, file.name, source]));
    let bitmap = null;
    try {
      bitmap = await createImageBitmap(new Blob([data]), { imageOrientation: 'from-image', premultiplyAlpha: 'none' });
    } catch (e) {
      appError(`could not open the image '${file.name}': the ${format} is damaged or cut short (the browser could not ` +
               `decode it: ${e.message || e})`);
      return 0;
    }
    try {
      const M = window.Module;
      const MAX_PIXELS = M.ccall('lrpscope_picture_limit', 'number', [], []);
      const sw = bitmap.width, sh = bitmap.height;
      if (sw * sh > MAX_PIXELS) {
        appError(`could not open the image '${file.name}': it is ${sw}x${sh} pixels, more than the limit of ` +
                 `${MAX_PIXELS / 1e6} megapixels`);
        return 0;
      }
      const w = M.ccall('lrpscope_picture_kept', 'number', ['number', 'number', 'number'], [sw, sh, 0]);
      const h = M.ccall('lrpscope_picture_kept', 'number', ['number', 'number', 'number'], [sw, sh, 1]);
      const cv = document.createElement('canvas');
      cv.width = w;
      cv.height = h;
      const ctx = cv.getContext('2d', { willReadFrequently: true });
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(bitmap, 0, 0, w, h);
      const rgba = ctx.getImageData(0, 0, w, h).data;
      cv.width = cv.height = 0;  // let the browser free the canvas now
      let transparent = false;
      for (let i = 3; i < rgba.length && !transparent; i += 4) transparent = rgba[i] !== 255;
      const rgbPtr = M.ccall('lrpscope_picture_buffer', 'number', ['number', 'number', 'number'], [w, h, transparent ? 1 : 0]);
      if (rgbPtr) {
        const alphaPtr = transparent ? M.ccall('lrpscope_picture_alpha_buffer', 'number', [], []) : 0;
        const heap = M.HEAPU8;  // read after the allocation (the heap may have grown)
        for (let i = 0, j = rgbPtr, n = w * h; i < n; i++, j += 3) {
          heap[j] = rgba[4 * i];
          heap[j + 1] = rgba[4 * i + 1];
          heap[j + 2] = rgba[4 * i + 2];
        }
        if (alphaPtr) for (let i = 0, n = w * h; i < n; i++) heap[alphaPtr + i] = rgba[4 * i + 3];
      }
      return call('lrpscope_do_load_picture', ['number', 'number', 'string', 'string'], [sw, sh, file.name, source]);
    } finally {
      bitmap.close();
    }
  }

  // source: the URL a link can name for this file ('' for files from this computer)
  async function loadFile(file, source = '') {
    const data = new Uint8Array(await file.arrayBuffer());
    const isModel = /\.safetensors$/i.test(file.name);
    const isJson = /\.json$/i.test(file.name);
    if (!isModel && !isJson) return loadPicture(file, data, source);
    if (isJson && new TextDecoder().decode(data.subarray(0, 4096)).includes('"weight_map"')) {
      appError(`${file.name} is the index of a sharded checkpoint: load it by URL (Model menu), so its shards can be fetched`);
      return 0;
    }
    return withUpload(file, data, (path) => isJson ? call('lrpscope_do_load_rules_file', ['string', 'string'], [path, file.name])
                                                     : call('lrpscope_do_load_model_file', ['string', 'string'], [path, file.name]));
  }

  const pickImage = document.getElementById('file-image');
  const pickModel = document.getElementById('file-model');
  pickImage.addEventListener('change', () => { if (pickImage.files[0]) loadFile(pickImage.files[0]); pickImage.value = ''; });
  pickModel.addEventListener('change', () => { if (pickModel.files[0]) loadFile(pickModel.files[0]); pickModel.value = ''; });
  window.lrpscopeOpenImage = () => pickImage.click();
  window.lrpscopeOpenModel = () => pickModel.click();
  const pickRules = document.getElementById('file-rules');
  pickRules.addEventListener('change', () => { if (pickRules.files[0]) loadFile(pickRules.files[0]); pickRules.value = ''; });
  window.lrpscopeOpenRules = () => pickRules.click();

  // drag and drop
  let depth = 0;
  window.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; document.body.classList.add('dragging'); });
  window.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; document.body.classList.remove('dragging'); } });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    document.body.classList.remove('dragging');
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (f) loadFile(f);
  });
  // paste: text goes to the app's text field that has the keyboard; an image is opened
  window.addEventListener('paste', (e) => {
    const text = e.clipboardData && e.clipboardData.getData('text/plain');
    if (text && window.Module.calledRun && call('lrpscope_do_paste', ['string'], [text])) {
      e.preventDefault();
      return;
    }
    const items = (e.clipboardData && e.clipboardData.items) || [];
    for (const it of items) {
      if (it.kind === 'file' && it.type.startsWith('image/')) {
        const f = it.getAsFile();
        loadFile(new File([f], 'pasted-image.' + (it.type.split('/')[1] || 'png'), { type: it.type }));
        e.preventDefault();
        return;
      }
    }
  });

  // downloads of exported files (written by the app into its file system)
  window.lrpscopeDownload = (path) => {
    const data = window.Module.FS.readFile(path);
    const type = path.endsWith('.png') ? 'image/png' : 'application/json';
    const url = URL.createObjectURL(new Blob([data], { type }));
    const a = document.createElement('a');
    a.href = url;
    a.download = path.split('/').pop();
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  // ---- weights from a URL: streamed straight into the engine's memory, with progress, cancel and a cache ----
  let controller = null;
  const CACHE = 'lrpscope-models-v1';
  window.lrpscopeCancelDownload = () => { if (controller) controller.abort(); };
  function progressToApp(active, loaded, total, speed, what) {
    window.Module.ccall('lrpscope_do_download_progress', null, ['number', 'number', 'number', 'number', 'string'],
                        [active ? 1 : 0, loaded, total, speed, what]);
  }
  function appError(text) {
    window.Module.ccall('lrpscope_do_report_error', null, ['string'], [text]);
  }

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
    const M = window.Module;
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
    const M = window.Module;
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
    const M = window.Module;
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
    const abs = new URL(url, location.href).href;
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
          window.Module.ccall('lrpscope_do_add_shard', 'number', ['string', 'number', 'number'], [f, d.ptr, d.size]);
        }
        ok = window.Module.ccall('lrpscope_do_load_shards', 'number', ['string', 'string', 'number'], [indexText, abs, stats.base]);
      } else {
        const { ptr, size, pending: p } = await download(abs, `downloading ${name}`, signal, stats);
        pending.push(p);
        progressToApp(true, size, size, 0, 'preparing the weights');
        await new Promise((res) => setTimeout(res, 0));
        ok = window.Module.ccall('lrpscope_do_load_model_buffer', 'number', ['number', 'number', 'string'], [ptr, size, abs]);
      }
      await cacheCommit(pending, !!ok);
      window.lrpscope.lastLoad = { url: abs, ok: !!ok, fromCache: stats.fromCache, bytes: stats.base,
                                   ms: performance.now() - stats.t0 };
      return ok;
    } catch (e) {
      await cacheCommit(pending, false).catch(() => {});
      const text = e.name === 'AbortError' ? 'download cancelled; the previous model is still loaded' : String(e.message || e);
      appError(text);
      window.lrpscope.lastLoad = { url: abs, ok: false, error: text };
      return 0;
    } finally {
      progressToApp(false, 0, 0, 0, '');
      controller = null;
    }
  }
  window.lrpscopeLoadModelUrl = (url) => { loadModelUrl(url); };

  async function loadImageUrl(url) {
    const r = await fetch(new URL(url, location.href).href);
    if (!r.ok) throw new Error(`could not download the image ${url}: HTTP ${r.status}`);
    const blob = await r.blob();
    return loadFile(new File([blob], url.split('/').pop().split('?')[0] || 'image'), url);
  }

  // ---- the clipboard: what the app copies (Ctrl+C in a text field, the Share dialog's Copy buttons) ----
  // The Clipboard API first; inside an iframe without allow="clipboard-write" it is refused, and a hidden
  // textarea with execCommand('copy') still works while the click that asked for it is recent.
  function copyFallback(text) {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.cssText = 'position:fixed;left:-9999px;top:0;opacity:0';
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    ta.remove();
    canvas.focus();
    return ok;
  }
  window.lrpscopeCopyText = (text) => {
    window.lrpscope.lastCopy = { text, how: 'pending' };
    const done = (how) => {
      window.lrpscope.lastCopy = { text, how };
      window.Module.ccall('lrpscope_do_copy_result', null, ['number'], [how === 'failed' ? 0 : 1]);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(() => done('clipboard'),
        () => done(copyFallback(text) ? 'execCommand' : 'failed'));
    } else {
      done(copyFallback(text) ? 'execCommand' : 'failed');
    }
  };

  // ---- sharing: a permalink of the current state (the app makes the <iframe> snippet) ----
  window.lrpscopeShare = (query) => {
    const link = location.origin + location.pathname + query;
    window.lrpscope.lastShare = { link };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(link).catch(() => {});
    window.Module.ccall('lrpscope_do_show_share', null, ['string'], [link]);
  };

  // ---- the first-steps hint stays dismissed on later visits ----
  window.lrpscopeHintDismissed = () => {
    try { localStorage.setItem('lrpscope.hint-dismissed', '1'); } catch (e) { /* storage blocked */ }
  };

  // ---- the state in the URL: model, image, then everything else ----
  async function applyUrlState() {
    const p = new URLSearchParams(location.search);
    const errors = [];
    if (p.get('model') && !await loadModelUrl(p.get('model'))) errors.push(window.lrpscope.state().error);
    const image = p.get('image');
    // image URLs are fetched here; sample names are the app's
    if (image && (/:\/\//.test(image) || image.startsWith('/') || image.startsWith('.') ||
                  /\.(png|jpe?g|gif|bmp|webp)$/i.test(image))) {
      try {
        if (!await loadImageUrl(image)) errors.push(window.lrpscope.state().error);
      } catch (e) { errors.push(String(e.message || e)); }
    }
    if (p.has('embed')) window.Module.ccall('lrpscope_do_dismiss_hint', 'number', [], []);
    // everything else is applied by the app, which checks each value against the model and keeps the valid ones
    let rest = '';
    if (location.search.length > 1) rest = window.Module.ccall('lrpscope_do_apply_query', 'string', ['string'], [location.search]);
    if (rest) errors.push(rest);
    if (errors.length > 1 || (errors.length === 1 && !rest)) appError(errors.filter(Boolean).join(' — '));
  }

  // the app stops drawing while idle; a new size of the page (or of the iframe it is in) wakes it
  const wake = () => { if (window.Module && window.Module.calledRun) window.Module.ccall('lrpscope_do_wake', null, [], []); };
  window.addEventListener('resize', wake);
  if (window.ResizeObserver) new ResizeObserver(wake).observe(canvas);
  document.addEventListener('visibilitychange', wake);

  window.lrpscopeReady = () => {
    loading.style.display = 'none';
    canvas.focus();
    let seen = false;
    try { seen = localStorage.getItem('lrpscope.hint-dismissed') === '1'; } catch (e) { seen = false; }
    if (seen) call('lrpscope_do_hint_seen', [], []);
    window.lrpscope.ready = false;
    applyUrlState().finally(() => { window.lrpscope.ready = true; });
  };

  // test hook: the app's state as an object
  // The threaded module needs SharedArrayBuffer, which browsers give only to cross-origin isolated pages.
  const threaded = self.crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined' &&
                   !new URLSearchParams(location.search).has('single');
  const script = document.createElement('script');
  script.src = threaded ? 'lrpscope-app-mt.js' : 'lrpscope-app.js';
  script.async = true;
  script.onerror = () => {
    if (threaded) {  // no threaded build on this host: fall back to the single-threaded module
      const s2 = document.createElement('script');
      s2.src = 'lrpscope-app.js';
      s2.async = true;
      document.body.appendChild(s2);
      window.lrpscope.module = 'single-threaded';
    } else {
      showError('could not load lrpscope-app.js');
    }
  };
  document.body.appendChild(script);

  window.lrpscope = {
    module: threaded ? 'threaded' : 'single-threaded',
    state: () => JSON.parse(window.Module.ccall('lrpscope_state_json', 'string', [], [])),
    call: (name, types, args) => call(name, types, args),
    loadFile,
    loadModelUrl: (url) => loadModelUrl(url),
    ready: false,
  };
})();

// Touch: one finger acts as the mouse (tap = click, drag = drag), so the basics work on tablets and phones.
(function () {
  const canvas = document.getElementById('canvas');
  function forward(type, t) {
    canvas.dispatchEvent(new MouseEvent(type, { clientX: t.clientX, clientY: t.clientY, screenX: t.screenX,
      screenY: t.screenY, button: 0, buttons: type === 'mouseup' ? 0 : 1, bubbles: true, cancelable: true }));
  }
  canvas.addEventListener('touchstart', (e) => {
    if (e.touches.length !== 1) return;
    e.preventDefault();
    forward('mousemove', e.touches[0]);
    forward('mousedown', e.touches[0]);
  }, { passive: false });
  canvas.addEventListener('touchmove', (e) => {
    if (e.touches.length !== 1) return;
    e.preventDefault();
    forward('mousemove', e.touches[0]);
  }, { passive: false });
  canvas.addEventListener('touchend', (e) => {
    e.preventDefault();
    forward('mouseup', e.changedTouches[0]);
  }, { passive: false });
})();
