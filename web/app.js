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

  // The engine runs in a Web Worker of its own: this page's module (lrpscope-ui) draws and sends commands; the
  // worker's module holds the weights and computes (threaded where the page is cross-origin isolated), and sends
  // back only what is drawn. ?engine=inline runs both in this thread (lrpscope-app), as where workers are missing.
  const params = new URLSearchParams(location.search);
  let engineWorker = null;
  let engineStarted = null;  // resolves when the worker's engine runs
  if (params.get('engine') !== 'inline' && typeof Worker !== 'undefined') {
    engineWorker = new Worker('engine-worker.js' + (params.has('single') ? '?single' : ''));
    let started;
    engineStarted = new Promise((resolve) => { started = resolve; });
    window.Module.arguments = ['--worker'];
    // the reference atlas: ?atlas=URL at once; else the default model's when a view first needs it (so the first
    // load stays small), quietly unused when another model is open
    // (the inline engine: fetchAtlas below)
    const atlasUrl = params.get('atlas');
    if (atlasUrl) engineWorker.postMessage({ type: 'atlas-url', url: new URL(atlasUrl, location.href).href, quiet: false });
    let atlasAsked = !!atlasUrl;
    window.lrpscopeNeedAtlas = () => {
      if (atlasAsked) return;
      atlasAsked = true;
      engineWorker.postMessage({ type: 'atlas-url', url: 'fashion-vgg16.atlas', quiet: true });
    };
    const pending = [];  // snapshots that arrive before this module runs
    const deliver = (bytes) => {
      const M = window.Module, n = bytes.byteLength;
      const ptr = M._malloc(Math.max(1, n));
      M.HEAPU8.set(new Uint8Array(bytes), ptr);
      try { M.ccall('lrpscope_engine_receive', null, ['number', 'number'], [ptr, n]); } finally { M._free(ptr); }
    };
    engineWorker.onmessage = (e) => {
      const m = e.data;
      if (m.type === 'snapshot') {
        if (window.Module.calledRun) deliver(m.bytes);
        else pending.push(m.bytes);
      } else if (m.type === 'ready') {
        window.lrpscope.module = m.threaded ? 'threaded' : 'single-threaded';
        started();
      } else if (m.type === 'atlas-missing') {
        if (window.Module.calledRun) window.Module.ccall('lrpscope_do_atlas_missing', 'number', [], []);
      } else if (m.type === 'load-done') {
        if (loadDone) loadDone(m.last);
        loadDone = null;
      } else if (m.type === 'failed') {
        showError('the engine could not start: ' + m.text);
        started();
      }
    };
    engineWorker.onerror = (e) => {
      showError('the engine stopped: ' + (e.message || e));
      started();
    };
    window.lrpscopeEngineSend = (view) => {
      const copy = view.slice();  // out of this module's memory, handed over without another copy
      engineWorker.postMessage({ type: 'command', bytes: copy.buffer }, [copy.buffer]);
    };
    window.Module.postRun = [() => { while (pending.length) deliver(pending.shift()); }];
  }

  let uploads = 0;
  function call(name, types, args) {
    return window.Module.ccall(name, 'number', types, args);
  }

  // Pictures are decoded by the browser's own decoders (PNG, JPEG, GIF, BMP, WebP, AVIF), upright by their EXIF
  // orientation, and reduced while they are drawn when they have more pixels than the engine keeps; only the reduced
  // RGBA pixels enter the engine's memory. The engine first checks the bytes, so that a cut or damaged file gets a
  // true message instead of a made-up picture; it decodes PPM/PGM (which browsers do not read) itself.
  // A file the app reads by path: written into the in-memory file system for the call, removed after it (the app
  // keeps what it needs: the weights, the rules or the decoded picture, which is what travels to the engine's worker).
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

  // A reference atlas (docs/atlas.md) for the engine: handed to its worker, or into this module's file system for
  // the inline engine. quiet: the default model's (kept unused, without an error, for another model).
  function loadAtlas(name, data, quiet) {
    if (engineWorker) {
      engineWorker.postMessage({ type: 'atlas-file', name, bytes: data.buffer, quiet }, [data.buffer]);
      return 1;
    }
    return withUpload({ name }, data, (path) => call('lrpscope_do_load_atlas_file', ['string', 'string', 'number'], [path, name, quiet ? 1 : 0]));
  }
  // The inline engine fetches its atlas here (the worker fetches its own): ?atlas=URL, or the default one the first
  // time a view needs it.
  async function fetchAtlas(url, quiet) {
    try {
      const r = await fetch(url);
      if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
      const n = Number(r.headers.get('Content-Length') || 0);
      if (n > 1024 * 1024 * 1024) throw new Error(`${Math.round(n / 1e6)} MB is more than an atlas can be (1 GB)`);
      loadAtlas(url, new Uint8Array(await r.arrayBuffer()), quiet);
    } catch (e) {
      if (quiet) call('lrpscope_do_atlas_missing', [], []);
      else call('lrpscope_do_report_atlas_error', ['string'], [`could not download the atlas ${url}: ${e.message || e}`]);
    }
  }
  if (!engineWorker) {
    let asked = false;
    window.lrpscopeNeedAtlas = () => {
      if (asked) return;
      asked = true;
      fetchAtlas('fashion-vgg16.atlas', true);
    };
  }
  const isAtlasBytes = (data) => data.length >= 8 && String.fromCharCode(...data.subarray(0, 8)) === 'LRPATLAS';

  // source: the URL a link can name for this file ('' for files from this computer)
  async function loadFile(file, source = '') {
    const data = new Uint8Array(await file.arrayBuffer());
    if (/\.atlas$/i.test(file.name) || isAtlasBytes(data)) return loadAtlas(file.name, data, false);
    const isModel = /\.(safetensors|pth|pt|onnx)$/i.test(file.name);
    const isJson = /\.json$/i.test(file.name);
    if (!isModel && !isJson) return loadPicture(file, data, source);
    if (isJson) {  // a lesson (an object with "steps"), or else a rules file
      const text = new TextDecoder().decode(data);
      let lesson = false;
      try { const j = JSON.parse(text); lesson = j !== null && typeof j === 'object' && !Array.isArray(j) && 'steps' in j; } catch (e) { lesson = false; }
      if (lesson) return call('lrpscope_do_open_lesson', ['string', 'string', 'string', 'number', 'number', 'number'], [text, file.name, '', 1, 1, -1]);
    }
    if (isJson && new TextDecoder().decode(data.subarray(0, 4096)).includes('"weight_map"')) {
      appError(`${file.name} is the index of a sharded checkpoint: load it by URL (Model menu), so its shards can be fetched`);
      return 0;
    }
    if (isModel && engineWorker) {  // weights go straight to the engine's worker, never into this module
      engineWorker.postMessage({ type: 'model-file', name: file.name, bytes: data.buffer }, [data.buffer]);
      return 1;
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
  const pickAtlas = document.getElementById('file-atlas');
  pickAtlas.addEventListener('change', () => { if (pickAtlas.files[0]) loadFile(pickAtlas.files[0]); pickAtlas.value = ''; });
  window.lrpscopeOpenAtlas = () => pickAtlas.click();
  const pickLesson = document.getElementById('file-lesson');
  pickLesson.addEventListener('change', () => { if (pickLesson.files[0]) loadFile(pickLesson.files[0]); pickLesson.value = ''; });
  window.lrpscopeOpenLesson = () => pickLesson.click();

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
  function saveBlob(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  window.lrpscopeDownloadText = (name, text) => {
    window.lrpscope.lastDownload = { name, text };
    saveBlob(new Blob([text], { type: 'application/json' }), name);
  };
  window.lrpscopeDownload = (path) => {
    const data = window.Module.FS.readFile(path);
    const type = path.endsWith('.png') ? 'image/png' : 'application/json';
    saveBlob(new Blob([data], { type }), path.split('/').pop());
  };
  // Several files as one zip (the figure export): zipped here by fflate (loaded on first use), PNGs stored as
  // they are, text compressed.
  let fflateReady = null;
  function loadFflate() {
    if (!fflateReady) {
      fflateReady = new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = new URL('fflate.js', location.href).href;
        s.onload = () => (self.fflate ? resolve(self.fflate) : reject(new Error('fflate.js did not load')));
        s.onerror = () => { fflateReady = null; reject(new Error('could not load fflate.js')); };
        document.head.appendChild(s);
      });
    }
    return fflateReady;
  }
  window.lrpscopeDownloadZip = (zipName, paths) => {
    const files = {};
    for (const p of paths.split('\n').filter(Boolean)) {
      const data = window.Module.FS.readFile(p);
      files[p.split('/').pop()] = [data, { level: p.endsWith('.png') ? 0 : 6 }];
    }
    loadFflate().then((ff) => {
      saveBlob(new Blob([ff.zipSync(files)], { type: 'application/zip' }), zipName);
    }).catch((e) => appError(`could not make the zip: ${e.message}`));
  };

  // ---- weights from a URL: streamed straight into the engine's memory (weights.js), with progress, cancel, cache;
  // with the engine in a worker, the worker downloads them into its own memory ----
  function progressToApp(active, loaded, total, speed, what) {
    window.Module.ccall('lrpscope_do_download_progress', null, ['number', 'number', 'number', 'number', 'string'],
                        [active ? 1 : 0, loaded, total, speed, what]);
  }
  function appError(text) {
    window.Module.ccall('lrpscope_do_report_error', null, ['string'], [text]);
  }
  const weights = self.lrpscopeWeights({
    module: () => window.Module,
    base: location.href,
    progress: progressToApp,
    error: appError,
    addShard: (f, ptr, size) => call('lrpscope_do_add_shard', ['string', 'number', 'number'], [f, ptr, size]),
    loadShards: (index, abs, total) => call('lrpscope_do_load_shards', ['string', 'string', 'number'], [index, abs, total]),
    loadBuffer: (ptr, size, abs) => call('lrpscope_do_load_model_buffer', ['number', 'number', 'string'], [ptr, size, abs]),
    done: (last) => { window.lrpscope.lastLoad = last; },
  });
  let loadDone = null;  // the worker's answer to the download in flight
  async function loadModelUrl(url) {
    if (!engineWorker) return weights.loadModelUrl(url);
    const abs = new URL(url, location.href).href;
    const answer = new Promise((resolve) => { loadDone = resolve; });
    engineWorker.postMessage({ type: 'load-url', url: abs });
    const last = await answer;
    window.lrpscope.lastLoad = last;
    return last.ok ? 1 : 0;
  }
  window.lrpscopeCancelDownload = () => {
    if (engineWorker) engineWorker.postMessage({ type: 'cancel-download' });
    else weights.cancel();
  };
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

  // ---- what a screen reader reads: the app's description of the view, once it has stopped changing for 0.4 s
  // (a live region that changes on every stage of a computation would chatter) ----
  {
    const live = document.getElementById('live');
    let timer = 0;
    window.lrpscopeDescribe = (text) => {
      clearTimeout(timer);
      timer = setTimeout(() => { if (live.textContent !== text) live.textContent = text; }, 400);
    };
  }

  // ---- the first-steps hint stays dismissed on later visits ----
  window.lrpscopeHintDismissed = () => {
    try { localStorage.setItem('lrpscope.hint-dismissed', '1'); } catch (e) { /* storage blocked */ }
  };

  // ---- the state in the URL: model, image, then everything else ----
  // The app's error line once the engine has applied what was sent to it (its worker answers later).
  async function engineError() {
    for (let i = 0; i < 250; i++) {
      const c = window.lrpscope.state().engine_commands;
      if (!c || c.applied >= c.posted) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return window.lrpscope.state().error;
  }
  // What a link names by URL (weights, an atlas, a picture) is fetched here; the problems, for the error line.
  async function fetchLinked(query) {
    const p = new URLSearchParams(query);
    const errors = [];
    if (p.get('model') && !await loadModelUrl(p.get('model'))) errors.push(await engineError());
    if (!engineWorker && p.get('atlas')) await fetchAtlas(new URL(p.get('atlas'), location.href).href, false);
    const image = p.get('image');
    // image URLs are fetched here; sample names are the app's (which tells them apart)
    if (image && call('lrpscope_image_is_address', ['string'], [image])) {
      try {
        if (!await loadImageUrl(image)) errors.push(await engineError());
      } catch (e) { errors.push(String(e.message || e)); }
    }
    return errors.filter(Boolean);
  }
  // ?lesson=URL[&step=N]: the lesson's file, fetched (at most 1 MB) and opened at that step; its state is applied
  // unless the link says more than where in the lesson it is (a view changed after the step: the link's own state)
  async function openLessonUrl(p) {
    const url = new URL(p.get('lesson'), location.href).href;
    const name = decodeURIComponent(url.split('?')[0].split('/').pop() || 'lesson');
    const step = Number(p.get('step') || 1);
    const own = [...p.keys()].some((k) => !['lesson', 'step', 'embed', 'single', 'coi', 'engine'].includes(k));
    try {
      const r = await fetch(url);
      if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
      if (Number(r.headers.get('Content-Length') || 0) > (1 << 20)) throw new Error('it is larger than a lesson can be (1 MB)');
      const text = await r.text();
      if (text.length > (1 << 20)) throw new Error('it is larger than a lesson can be (1 MB)');
      call('lrpscope_do_open_lesson', ['string', 'string', 'string', 'number', 'number', 'number'],
           [text, name, p.get('lesson'), Number.isInteger(step) && step >= 1 ? step : 1, own ? 0 : 1,
            p.has('embed') && !['0', 'false'].includes(p.get('embed')) ? 1 : 0]);
    } catch (e) {
      call('lrpscope_do_report_error', ['string'], [`could not open the lesson ${p.get('lesson')}: ${e.message || e}`]);
    }
    return own;
  }
  // A lesson's step: what it names by URL first, then its state, in the view it is shown in.
  let stepChain = Promise.resolve();
  window.lrpscopeApplyStep = (query) => {
    stepChain = stepChain.then(async () => {
      const errors = await fetchLinked(query);
      call('lrpscope_do_apply_step', ['string', 'string'], [query, errors.join('\n')]);
    }).catch(() => {});
    window.lrpscope.stepsApplied = stepChain;
  };
  async function applyUrlState() {
    const p = new URLSearchParams(location.search);
    if (p.has('embed')) window.Module.ccall('lrpscope_do_dismiss_hint', 'number', [], []);
    if (p.get('lesson') && !await openLessonUrl(p)) return;
    const errors = await fetchLinked(location.search);
    // everything else is applied by the app, which checks each value against the model and keeps the valid ones; it
    // puts every problem of the link, the page's first, on its one error line
    if (location.search.length > 1)
      window.Module.ccall('lrpscope_do_apply_query', 'string', ['string', 'string'], [location.search, errors.join('\n')]);
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
    Promise.resolve(engineStarted).then(applyUrlState).finally(() => { window.lrpscope.ready = true; });
  };

  // The interface's module: alone when the engine is in its worker; with the engine inside otherwise (the
  // single-threaded one: the pthreads engine runs only in the worker, where the page is cross-origin isolated).
  const script = document.createElement('script');
  script.src = engineWorker ? 'lrpscope-ui.js' : 'lrpscope-app.js';
  script.async = true;
  script.onerror = () => showError('could not load ' + script.src);
  document.body.appendChild(script);

  // test hook: the app's state as an object
  window.lrpscope = {
    module: engineWorker ? 'starting' : 'single-threaded',  // the engine's module (the worker says which)
    engine: engineWorker ? 'worker' : 'inline',
    state: () => JSON.parse(window.Module.ccall('lrpscope_state_json', 'string', [], [])),
    call: (name, types, args) => call(name, types, args),
    loadFile,
    loadModelUrl: (url) => loadModelUrl(url),
    ready: false,
  };
})();

// Touch and wheel, as a person uses them:
// - a tap is a click where the finger was: the app sees the cursor there first and the press a few frames later
//   (ImGui matches a press with the control hovered in the frame before; a move and a press in one frame missed
//   the control when the finger came from another one);
// - a finger held still for half a second shows the tooltip of what it is on, without pressing it;
// - a finger that moves drags from where it went down (sliders, the graph, the column on phones);
// - two fingers pinch-zoom the graph (as wheel steps at their midpoint);
// - the wheel reaches the app as steps (GLFW's port passes the browser's pixels through: one notch was 100 steps,
//   and downwards zoomed in).
(function () {
  const canvas = document.getElementById('canvas');
  let touchMode = false;
  function useTouch() {
    if (touchMode || !window.Module || !window.Module.calledRun) return;
    touchMode = true;
    window.Module.ccall('lrpscope_do_set_touch', 'number', ['number'], [1]);
  }
  if (window.matchMedia && window.matchMedia('(pointer: coarse)').matches) {
    const wait = setInterval(() => { if (window.Module && window.Module.calledRun) { clearInterval(wait); useTouch(); } }, 100);
  }
  function forward(type, p) {
    canvas.dispatchEvent(new MouseEvent(type, { clientX: p.clientX, clientY: p.clientY, screenX: p.screenX,
      screenY: p.screenY, button: 0, buttons: type === 'mouseup' ? 0 : 1, bubbles: true, cancelable: true }));
  }
  function wheelSteps(steps, p) {  // steps > 0: up (zoom in)
    const ev = new WheelEvent('wheel', { deltaY: steps, deltaMode: 0, clientX: p.clientX, clientY: p.clientY,
      bubbles: true, cancelable: true });
    ev.lrpscopeSteps = true;
    canvas.dispatchEvent(ev);
  }
  window.addEventListener('wheel', (e) => {
    if (e.target !== canvas || e.lrpscopeSteps) return;
    e.stopPropagation();
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 1 / 3 : e.deltaMode === 2 ? 1 : 1 / 100;
    const steps = Math.max(-3, Math.min(3, -e.deltaY * unit));
    if (steps) wheelSteps(steps, e);
  }, { capture: true, passive: false });
  const point = (t) => ({ clientX: t.clientX, clientY: t.clientY, screenX: t.screenX, screenY: t.screenY });
  const mid = (a, b) => ({ clientX: (a.clientX + b.clientX) / 2, clientY: (a.clientY + b.clientY) / 2,
    screenX: (a.screenX + b.screenX) / 2, screenY: (a.screenY + b.screenY) / 2 });
  const dist = (a, b) => Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY);
  // (on the window, before the canvas: GLFW's port turns touches into presses of its own, at once and in the same
  // frame as the move, so they must not reach it)
  const on = (type, f) => window.addEventListener(type, (e) => {
    if (e.target !== canvas) return;
    e.stopPropagation();
    e.preventDefault();
    f(e);
  }, { capture: true, passive: false });
  on('touchcancel', () => {
    clearTimeout(timer);
    if (pressed && start) forward('mouseup', start);
    start = null;
    pressed = false;
    pinch = null;
  });
  let start = null, pressed = false, held = false, timer = 0, pinch = null;
  on('touchstart', (e) => {
    useTouch();
    clearTimeout(timer);
    if (e.touches.length === 2) {  // a second finger: a pinch, not a drag
      if (pressed) forward('mouseup', start);
      pressed = false;
      start = null;
      const a = point(e.touches[0]), b = point(e.touches[1]);
      // (the cursor goes there first: the graph must be under it for a frame before the steps arrive, or they would
      // scroll the panel around it)
      pinch = { d0: dist(a, b), steps: 0, ready: false };
      forward('mousemove', mid(a, b));
      const p = pinch;
      setTimeout(() => { p.ready = true; }, 80);
      return;
    }
    if (e.touches.length !== 1 || pinch) return;
    start = point(e.touches[0]);
    pressed = false;
    held = false;
    forward('mousemove', start);
    timer = setTimeout(() => { held = true; }, 500);
  });
  on('touchmove', (e) => {
    if (pinch && e.touches.length === 2) {
      const a = point(e.touches[0]), b = point(e.touches[1]);
      if (!pinch.ready) return;
      const want = Math.round(Math.log(Math.max(1e-3, dist(a, b) / pinch.d0)) / Math.log(1.15));
      if (want !== pinch.steps) {
        forward('mousemove', mid(a, b));
        wheelSteps(want - pinch.steps, mid(a, b));
        pinch.steps = want;
      }
      return;
    }
    if (!start || e.touches.length !== 1) return;
    const p = point(e.touches[0]);
    if (!pressed && !held && dist(p, start) > 10) {
      clearTimeout(timer);
      pressed = true;
      forward('mousedown', start);
    }
    if (pressed) forward('mousemove', p);
  });
  on('touchend', (e) => {
    clearTimeout(timer);
    if (pinch) {
      if (e.touches.length === 0) pinch = null;
      return;
    }
    if (!start) return;
    const s = start;
    start = null;
    if (pressed) {
      forward('mouseup', point(e.changedTouches[0]));
    } else if (!held) {  // a tap
      setTimeout(() => {
        forward('mousedown', s);
        setTimeout(() => forward('mouseup', s), 60);
      }, 60);
    }  // (held: the tooltip stays until the next touch)
  });
})();
