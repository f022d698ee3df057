// What a channel sees, in the page (issue 18): the first page load stays under 10 MB (the atlas is not in it); when
// a view first needs it, the engine's worker fetches the default model's atlas; a neuron
// found with the graph's search and opened in the Neuron tab shows its top references by activation and by
// relevance — the CLI's (lrpscope references) in the same order, each crop the right way up against the CLI's
// grid and masked by its conditional heatmap — and a real click on one opens that picture. The Concepts tab lists
// conv5_3's channels as their best atlas pictures, the CLI's most relevant channels first, beside the concept map;
// a click on a channel selects it, a double-click opens its references. A link whose ?atlas= is no atlas, is not
// there, or was made for other weights gets one sentence on the error line, and the app goes on. Screenshots of the
// Neuron tab at 1280x800, 1024x600, 768x1024 and 390x844 are kept.
//   node tests/web/references.test.mjs DIST_DIR LRPSCOPE_CLI OUT_DIR
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { serve, launch, waitFor, centre, clickAt, fresh as freshState } from './browser.mjs';
import { decodePng } from './png.mjs';
import { readNpy, sampleCells, assertUpright } from './orientation.mjs';

const [dist, cli, outDir] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
fs.mkdirSync(outDir, { recursive: true });
const model = path.join(root, 'assets/models/fashion-vgg16.safetensors');
const atlas = path.join(dist, 'fashion-vgg16.atlas');
const run = (args) => execFileSync(cli, args, { encoding: 'utf8' });
assert.ok(fs.existsSync(atlas), `${atlas} is missing (scripts/build copies the native build's atlas)`);

// conv2_2:5, a channel that sees a part of the picture (its crops are not the whole picture)
const [layer, nick, ch] = ['features.7', 'conv2_2', 5];
const cliRefs = {};
for (const by of ['activation', 'relevance'])
  cliRefs[by] = JSON.parse(run(['references', '--atlas', atlas, '--layer', nick, '--channel', String(ch), '--by', by, '--json'])).references;
const grid = path.join(outDir, 'grid-activation.png');
run(['references', '--atlas', atlas, '--layer', nick, '--channel', String(ch), '--by', 'activation', '--model', model, '--out', grid]);
const gridPng = decodePng(fs.readFileSync(grid));

const server = await serve(dist);
let page, close, s, shots = 0, t0 = 0;
const shot = async (name) => decodePng(await page.screenshot({ path: path.join(outDir, `${String(++shots).padStart(2, '0')}-${name}.png`) }));
const fresh = () => freshState(page);
const settled = (pred = () => true, what = 'the app') => waitFor(page, pred, 90000, what);
const click = async (key) => { await clickAt(page, ...centre(s, key)); s = await fresh(); };
const masked = (x) => x.references && x.references.layer === layer && x.references.channel === ch &&
                      x.references.total > 0 && x.references.done === x.references.total;
try {
  for (const [w, h] of [[1280, 800], [1024, 600], [768, 1024], [390, 844]]) {
    const tag = `${w}x${h}`;
    ({ page, close } = await launch(w, h));
    // every byte the page fetches over the network (worker included: a script the threaded engine's helper threads
    // load again comes from the browser's cache, a 304), and whether the atlas was among them
    const got = [];
    page.context().on('requestfinished', async (q) => {
      try { got.push({ url: q.url(), bytes: (await q.sizes()).responseBodySize }); } catch (e) { /* (gone with its page) */ }
    });
    await page.goto(server.url + '?image=fashion/sneaker-1');
    await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
    s = await settled((x) => x.selected_neuron, `the first explanation at ${tag}`);
    await page.waitForTimeout(500);
    if (tag === '1280x800') {
      const mb = got.reduce((t, r) => t + r.bytes, 0) / 1e6;
      console.log(`first page load: ${got.length} requests, ${mb.toFixed(2)} MB (` +
                  got.map((r) => `${path.basename(new URL(r.url).pathname) || '/'} ${(r.bytes / 1e6).toFixed(2)}`).join(', ') + ')');
      assert.ok(mb < 10, `the first page load is ${mb.toFixed(2)} MB`);
      assert.ok(!got.some((r) => r.url.endsWith('.atlas')) && !s.atlas, 'the atlas came with the first load');
    }
    await page.evaluate(() => window.Module.ccall('lrpscope_do_dismiss_hint', 'number', [], []));
    s = await fresh();
    if (tag === '1280x800') {
      // the graph's search selects the neuron (it need not be in the graph), then the Neuron tab shows it
      await click('graph:find');
      await page.keyboard.press('Control+A');
      await page.keyboard.type(`${nick}:${ch}`, { delay: 30 });
      await page.keyboard.press('Enter');
      await page.waitForTimeout(100);
      s = await fresh();
      t0 = Date.now();
      await click('tab:Neuron');
    } else {  // (the other sizes are for looking at: the hooks choose the neuron and the tab)
      await page.evaluate(([l, c]) => {
        window.Module.ccall('lrpscope_do_select_neuron', 'number', ['string', 'number'], [l, c]);
        window.Module.ccall('lrpscope_do_set_tab', 'number', ['string'], ['Neuron']);
      }, [layer, ch]);
    }
    s = await settled((x) => x.tab === 'Neuron' && masked(x), `${tag}: the references of ${nick}:${ch}, masked`);
    assert.equal(s.atlas.mismatch, '', `${tag}: the default atlas does not fit the default model: ${s.atlas.mismatch}`);
    assert.match(s.atlas.source, /fashion-vgg16\.atlas$/);
    assert.equal(s.atlas.layers, 15);
    if (tag === '1280x800') console.log(`${tag}: from the click on the Neuron tab to 16 masked references (with the atlas' download): ${Date.now() - t0} ms`);
    if (tag === '1280x800') {
      // the CLI's references, in its order (the first 8 of each ranking)
      for (const by of ['activation', 'relevance']) {
        const got = s.references[by], want = cliRefs[by].slice(0, 8);
        assert.deepEqual(got.map((r) => r.name), want.map((r) => r.name), `${by}: not the CLI's references`);
        got.forEach((r, i) => {
          assert.ok(Math.abs(r.score - want[i].score) <= 1e-5 * Math.abs(want[i].score), `${by} ${i}: score ${r.score} vs ${want[i].score}`);
          assert.deepEqual(r.box, want[i].box, `${by} ${i}: box`);
          assert.deepEqual(r.size, [want[i].box[3] - want[i].box[1], want[i].box[2] - want[i].box[0]], `${by} ${i}: crop size`);
          assert.ok(r.masked, `${by} ${i}: not masked`);
        });
      }
      const [bw, bh] = s.references.activation[0].size;
      assert.ok(bw < 32 || bh < 32, `the crop of ${nick} is the whole picture (${bw} x ${bh})`);
      await page.mouse.move(5, h - 5);  // (no tooltip over the thumbnails)
      s = await fresh();
      const img = await shot(`neuron-references-${tag}`);
      // the first reference, drawn in the page, against the CLI grid's first cell (96 px, at (6, 28), aspect kept)
      const k = 96 / Math.max(bw, bh), cw = Math.floor(bw * k), chh = Math.floor(bh * k);
      const cell = [6 + Math.floor((96 - cw) / 2), 28 + Math.floor((96 - chh) / 2)];
      const want = sampleCells(gridPng, [cell[0], cell[1], cell[0] + cw, cell[1] + chh], bw, bh).luma;
      const got = sampleCells(img, s.rects['refs:activation:0'], bw, bh).luma;
      console.log(assertUpright(got, want, bw, bh, `the first reference by activation of ${nick}:${ch}`, 0.9));
      // ---- the Concepts tab: conv5_3's channels, the most relevant to this decision first (the CLI's relevance)
      await page.keyboard.press('7');
      s = await settled((x) => x.tab === 'Concepts' && x.concepts && x.concepts.order.length > 0, `${tag}: the Concepts tab`);
      assert.equal(s.concepts.layer, 'features.28');
      assert.equal(s.concepts.by, 'activation');
      assert.ok(s.concepts.map, 'the atlas has no concept map for conv5_3');
      const npy = path.join(outDir, 'npy-sneaker');
      run(['explain', '--model', model, '--image', path.join(root, 'assets/samples/fashion/sneaker-1.png'), '--npy-dir', npy]);
      const { shape, data } = readNpy(path.join(npy, 'relevance_features.28.npy'));
      const per = data.length / shape[0], sums = [];
      for (let c = 0; c < shape[0]; c++) { let t = 0; for (let i = 0; i < per; i++) t += data[c * per + i]; sums.push(t); }
      const mostRelevant = [...sums.keys()].sort((a, b) => sums[b] - sums[a] || a - b).slice(0, 10);
      assert.deepEqual(s.concepts.order.slice(0, 10), mostRelevant, 'not the CLI\'s most relevant channels first');
      s.concepts.order.slice(0, 10).forEach((c, i) => assert.ok(Math.abs(s.concepts.relevance[i] - sums[c]) <= 1e-4 * Math.abs(sums[c]) + 1e-6,
                                                               `channel ${c}: relevance ${s.concepts.relevance[i]} vs the CLI's ${sums[c]}`));
      const top = s.concepts.order[0];
      const topRefs = JSON.parse(run(['references', '--atlas', atlas, '--layer', 'conv5_3', '--channel', String(top), '--json'])).references;
      assert.equal(s.concepts.best[0], topRefs[0].name, `channel ${top}'s picture is not its best by activation`);
      await page.mouse.move(5, h - 5);
      s = await fresh();
      await shot(`concepts-${tag}`);
      // a real click on the second cell selects that channel; a double-click on it opens its references
      const second = s.concepts.order[1];
      await click('concepts:cell:1');
      s = await settled((x) => x.selected_neuron && x.selected_neuron.layer === 'features.28' && x.selected_neuron.index === second,
                        `${tag}: conv5_3:${second} selected from its cell`);
      const [cx, cy] = centre(s, 'concepts:cell:1');
      await page.mouse.move(cx, cy);
      await page.waitForTimeout(60);
      await page.mouse.dblclick(cx, cy);  // (the browser's own double click: both clicks at once, between two frames)
      s = await settled((x) => x.tab === 'Neuron' && x.references && x.references.layer === 'features.28' &&
                               x.references.channel === second && x.references.done === x.references.total,
                        `${tag}: the Neuron tab with conv5_3:${second}'s references`);
      console.log(`${tag}: the Concepts tab puts the CLI's most relevant conv5_3 channels first (${mostRelevant.slice(0, 5).join(', ')}, ...), ` +
                  `each shown as its best picture; a click selected #${second}, a double-click opened its references`);
      await page.keyboard.press('2');
      s = await fresh();
      // a real click on a reference opens its picture, as the model saw it in the atlas
      const pick = s.references.relevance[0];
      await click('refs:relevance:0');
      s = await settled((x) => x.image === pick.name, `${tag}: the picture ${pick.name} opened from its reference`);
      assert.equal(s.error, '');
      assert.deepEqual([s.picture.width, s.picture.height], [32, 32]);
      console.log(`${tag}: ${nick}:${ch} shows the CLI's 8 + 8 references, masked; a click opened ${pick.name} (${s.predicted_label})`);
      await shot(`reference-opened-${tag}`);
    } else {
      // (on a phone or a tablet the column scrolls: the wheel brings the references up)
      for (let i = 0; i < 30 && s.rects.column && s.rects['refs:relevance:0'] &&
                      s.rects['refs:relevance:0'][3] > s.rects.column[3]; i++) {
        await page.mouse.move(w / 2, h / 2);
        await page.mouse.wheel(0, 120);
        s = await fresh();
      }
      assert.ok(s.rects['refs:activation:0'] && s.rects['refs:relevance:0'], `${tag}: the references are not drawn`);
      await shot(`neuron-references-${tag}`);
      console.log(`${tag}: the references of ${nick}:${ch} are drawn`);
    }
    await close();
    close = null;
  }
  // ---- hostile links: ?atlas= naming a file that is no atlas, one that is not there, and an atlas for other weights
  const other = path.join(outDir, 'other-weights.safetensors');
  run(['make-random', '--arch', 'vgg16', '--width-div', '8', '--input', '32', '--classes', '10', '--seed', '5', '--out', other]);
  const otherAtlas = path.join(dist, 'test-other.atlas');
  run(['atlas', '--model', other, '--fashion-mnist', '/usr/share/datasets/fashion-mnist', '--limit', '40', '--top', '2',
       '--layers', 'conv5_3', '--quiet', '--out', otherAtlas]);
  try {
    for (const [link, want] of [['app.js', /could not open the atlas.*app\.js.*/], ['nothing-here.atlas', /could not download the atlas .*nothing-here\.atlas: 404/],
                                ['test-other.atlas', /could not open the atlas.*test-other\.atlas.*(was made for|other weights)/]]) {
      ({ page, close } = await launch(1280, 800));
      await page.goto(server.url + `?image=fashion/sneaker-1&atlas=${link}`);
      await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
      s = await settled((x) => x.selected_neuron && want.test(x.error), `the error line for ?atlas=${link}`);
      assert.ok(!s.atlas, `?atlas=${link}: an atlas was kept`);
      assert.equal(s.predicted_label, 'Sneaker', `?atlas=${link}: the app did not go on`);
      console.log(`?atlas=${link}: "${s.error}"; the app goes on`);
      await close();
      close = null;
    }
    // ---- opened by the Model menu (the browser's file chooser) and dropped on the page; a renamed atlas is known
    // by its first bytes
    ({ page, close } = await launch(1280, 800));
    await page.goto(server.url + '?image=fashion/sneaker-1&neuron=features.7:5&panel=neuron');
    await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
    s = await settled(masked, 'the default references');
    await page.evaluate(() => window.Module.ccall('lrpscope_do_dismiss_hint', 'number', [], []));
    s = await fresh();
    await click('menu:model');
    const chooser = page.waitForEvent('filechooser', { timeout: 10000 });
    await click('menu:model:atlas');
    await (await chooser).setFiles(otherAtlas);
    s = await settled((x) => /could not open the atlas 'test-other\.atlas'.*was made for/.test(x.error), 'the chosen atlas refused');
    assert.match(s.atlas.source, /fashion-vgg16\.atlas$/, 'the refused atlas replaced the one in use');
    assert.ok(masked(s), 'the references went away with the refused atlas');
    console.log(`Model → Open a reference atlas, for other weights: "${s.error}"; the default atlas stays`);
    const drop = async (url, name) => {
      const dt = await page.evaluateHandle(async ([u, n]) => {
        const d = new DataTransfer();
        d.items.add(new File([await (await fetch(u)).arrayBuffer()], n));
        return d;
      }, [url, name]);
      await page.dispatchEvent('canvas', 'drop', { dataTransfer: dt });
    };
    await drop('fashion-vgg16.atlas', 'renamed.bin');
    s = await settled((x) => x.atlas && x.atlas.source === 'renamed.bin' && masked(x) && x.error === '', 'the dropped atlas');
    assert.deepEqual(s.references.activation.map((r) => r.name), cliRefs.activation.slice(0, 8).map((r) => r.name));
    assert.ok((s.share_limits || []).some((t) => /atlas \(renamed\.bin\) was opened from this computer/.test(t)),
              `the share dialog does not say the link cannot carry the dropped atlas: ${JSON.stringify(s.share_limits)}`);
    console.log(`a dropped atlas named renamed.bin is opened (its first bytes say LRPATLAS); the link says it cannot carry it`);
    await close();
    close = null;
    // ---- a link carries ?atlas=URL: the receiver opens the same atlas
    ({ page, close } = await launch(1280, 800));
    await page.goto(server.url + '?image=fashion/sneaker-1&atlas=fashion-vgg16.atlas&neuron=features.7:5&panel=neuron');
    await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
    s = await settled((x) => masked(x) && x.atlas, 'the references of ?atlas=');
    const atlasUrl = new URL('fashion-vgg16.atlas', server.url).href;
    assert.equal(s.atlas.source, atlasUrl);
    assert.ok(new URLSearchParams(s.link).get('atlas') === atlasUrl, `the link does not carry the atlas: ${s.link}`);
    const link = s.link;
    await close();
    ({ page, close } = await launch(1280, 800));
    await page.goto(server.url + link);
    await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
    s = await settled((x) => masked(x) && x.atlas, 'the references of the shared link');
    assert.equal(s.atlas.source, atlasUrl);
    console.log(`the link ${link} opens the same atlas`);
    await close();
    close = null;
    // ---- the inline engine (?engine=inline) fetches its atlas itself: the default one when a view needs it, or ?atlas=
    for (const [query, source] of [['', /^fashion-vgg16\.atlas$/], ['&atlas=fashion-vgg16.atlas', /^http.*fashion-vgg16\.atlas$/]]) {
      ({ page, close } = await launch(1280, 800));
      await page.goto(server.url + `?engine=inline&image=fashion/sneaker-1&neuron=features.7:5&panel=neuron${query}`);
      await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
      s = await settled((x) => masked(x) && x.atlas, `the inline engine's references${query}`);
      assert.match(s.atlas.source, source);
      assert.deepEqual(s.references.relevance.map((r) => r.name), cliRefs.relevance.slice(0, 8).map((r) => r.name));
      if (!query) await shot('inline-engine-references');
      await close();
      close = null;
    }
    ({ page, close } = await launch(1280, 800));
    await page.goto(server.url + '?engine=inline&image=fashion/sneaker-1&atlas=nothing-here.atlas');
    await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
    s = await settled((x) => x.selected_neuron && /could not download the atlas .*nothing-here\.atlas: 404/.test(x.error), 'the inline ?atlas= error');
    console.log(`the inline engine opens the default atlas and ?atlas=; a missing one: "${s.error}"`);
    await close();
    close = null;
  } finally {
    fs.rmSync(otherAtlas, { force: true });
  }
  console.log('references: all checks passed');
} finally {
  if (close) await close();
  server.stop();
}
