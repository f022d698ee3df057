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

  async function loadFile(file) {
    const data = new Uint8Array(await file.arrayBuffer());
    const FS = window.Module.FS;
    try { FS.mkdir('/upload'); } catch (e) { /* exists */ }
    const path = '/upload/' + (uploads++) + '-' + file.name.replace(/[^A-Za-z0-9._-]/g, '_');
    FS.writeFile(path, data);
    const isModel = /\.safetensors$/i.test(file.name);
    const ok = isModel ? call('lrpscope_do_load_model_file', ['string', 'string'], [path, file.name])
                       : call('lrpscope_do_load_image_file', ['string', 'string'], [path, file.name]);
    if (isModel) FS.unlink(path);  // the weights now live in the engine
    return ok;
  }

  const pickImage = document.getElementById('file-image');
  const pickModel = document.getElementById('file-model');
  pickImage.addEventListener('change', () => { if (pickImage.files[0]) loadFile(pickImage.files[0]); pickImage.value = ''; });
  pickModel.addEventListener('change', () => { if (pickModel.files[0]) loadFile(pickModel.files[0]); pickModel.value = ''; });
  window.lrpscopeOpenImage = () => pickImage.click();
  window.lrpscopeOpenModel = () => pickModel.click();

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
  // paste an image from the clipboard
  window.addEventListener('paste', (e) => {
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

  window.lrpscopeReady = () => {
    loading.style.display = 'none';
    canvas.focus();
  };

  // test hook: the app's state as an object
  window.lrpscope = {
    state: () => JSON.parse(window.Module.ccall('lrpscope_state_json', 'string', [], [])),
    call: (name, types, args) => call(name, types, args),
    loadFile,
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
