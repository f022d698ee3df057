// The classroom tools in the page, with real clicks, keys and strokes in headless Chromium. Lessons: a lesson served from another path opens at
// ?step=2 with that step's state (picture, rules, class, neuron, panel), Next and the arrow keys move between steps,
// the embed view keeps itself, a link in the text opens, bad lessons are refused with the previous one kept, and a
// lesson built in the editor (add, edit, reorder, download) loads again identically. The example lesson of the course
// page is stepped through end to end, each step drawn for a person to read. Predict, then reveal: the score equals
// the one from the CLI's relevance for the painted pixels. What if: black paint gives the CLI's logits on the same
// edited picture; Undo and Reset picture give the original's back:
//   node tests/web/classroom.test.mjs DIST_DIR LRPSCOPE_CLI OUT_DIR
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { serve, launch, waitFor, centre, clickAt, fresh, reportFailure } from './browser.mjs';
import { readNpy, channelSum } from './orientation.mjs';
import { decodePng, encodePng } from './png.mjs';

const [dist, cli, outDir] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
fs.mkdirSync(outDir, { recursive: true });
const lessons = path.join(outDir, 'lessons');
fs.mkdirSync(lessons, { recursive: true });
const lesson = {
  title: 'A test lesson',
  steps: [
    { title: 'The coat', text: 'A *coat*.', state: '?image=fashion/coat-1' },
    { title: 'A sandal, up close', text: 'Read [the paper](https://arxiv.org/abs/2412.05686) and look at **this** neuron.\n\n- one\n- two',
      state: '?image=fashion/sneaker-1&composite=epsilon-plus-flat&target=5&panel=neuron&neuron=features.28%3A25' },
    { title: 'Sneaker rather than sandal', text: 'The rules, with a contrast.',
      state: '?image=fashion/bag-1&composite=epsilon&target=7%2C5&panel=rules' },
    { title: 'Heatmap only', text: '', state: '?image=fashion/trouser-1&mode=heatmap' },
  ],
};
fs.writeFileSync(path.join(lessons, 'test-lesson.json'), JSON.stringify(lesson));
fs.writeFileSync(path.join(lessons, 'broken.json'), '{"title": "broken", "steps": [{"state": 3}]}');

const server = await serve(dist, '/', ['--mount', `/lessons/=${lessons}`]);
let page, logs, close, step = 0;
const shot = async (name) => page.screenshot({ path: path.join(outDir, `${String(++step).padStart(2, '0')}-${name}.png`) });
const click = async (s, key) => clickAt(page, ...centre(s, key));
const settled = (pred, what, timeout = 60000) => waitFor(page, pred, timeout, what);
const call = (name, types, args) => page.evaluate(([n, t, a]) => window.Module.ccall(n, 'number', t, a), [name, types, args]);
async function open(url, w = 1280, h = 800) {
  ({ page, logs, close } = await launch(w, h, 1));
  await page.goto(server.url + url);
  await page.waitForFunction(() => window.lrpscope && window.lrpscope.ready, null, { timeout: 90000 });
}
// the view of step 2 (and 3) as the lesson's file says
const atStep2 = (x) => x.lesson && x.lesson.step === 2 && x.image === 'fashion/sneaker-1' && x.composite === 'epsilon-plus-flat' &&
  x.target === 5 && x.tab === 'Neuron' && x.selected_neuron && x.selected_neuron.layer === 'features.28' && x.selected_neuron.index === 25;
const atStep3 = (x) => x.lesson && x.lesson.step === 3 && x.image === 'fashion/bag-1' && x.composite === 'epsilon' &&
  x.contrast && x.contrast[0] === 7 && x.contrast[1] === 5 && x.tab === 'Rules';
try {
  // ---------------------------------------------------------------- a lesson from another path, at step 2
  await open('?single&lesson=/lessons/test-lesson.json&step=2');
  let s = await settled(atStep2, 'step 2 of the lesson');
  assert.equal(s.lesson.title, 'A test lesson');
  assert.equal(s.lesson.steps, 4);
  assert.equal(s.lesson.step_title, 'A sandal, up close');
  assert.equal(s.error, '');
  assert.ok(s.rects.lesson && s.rects['lesson:next'] && s.rects['lesson:back'], 'no lesson card');
  await shot('lesson-step2');
  // Next, clicked
  await call('lrpscope_do_dismiss_hint', [], []);
  s = await fresh(page);
  await click(s, 'lesson:next');
  s = await settled(atStep3, 'step 3 after Next');
  // the arrow keys: right to step 4, left back to step 3
  await page.mouse.move(5, 790);
  await page.keyboard.press('ArrowRight');
  s = await settled((x) => x.lesson.step === 4 && x.image === 'fashion/trouser-1' && x.app.mode === 'heatmap', 'step 4 by the right arrow');
  assert.equal(s.contrast_mode, false, 'the contrast of step 3 is still ticked in step 4');
  await page.keyboard.press('ArrowLeft');
  s = await settled(atStep3, 'step 3 by the left arrow');
  console.log('lesson: opened at step 2 with its picture, rules, class, neuron and panel; Next and the arrows apply steps 3 and 4');
  // a link in a step's text opens in a new tab (a click on it)
  await call('lrpscope_do_lesson_go', ['number'], [2]);
  s = await settled(atStep2, 'step 2 again');
  s = await fresh(page);
  const linkKey = 'lesson:link:https://arxiv.org/abs/2412.05686';
  assert.ok(s.rects[linkKey], `the link is not drawn (${Object.keys(s.rects).filter((k) => k.startsWith('lesson')).join(', ')})`);
  const popup = page.context().waitForEvent('page', { timeout: 10000 }).catch(() => null);
  await click(s, linkKey);
  s = await fresh(page);
  assert.equal(s.lesson.link, 'https://arxiv.org/abs/2412.05686');
  assert.equal(await page.evaluate(() => window.lrpscopeLastLink), 'https://arxiv.org/abs/2412.05686');
  const tab = await popup;
  if (tab) await tab.close();
  // a permalink made in a lesson names the lesson and the step
  assert.ok(s.link.includes('lesson=/lessons/test-lesson.json') && s.link.includes('step=2'), s.link);
  // a broken lesson file: one sentence on the error line, the lesson shown stays
  await page.setInputFiles('#file-lesson', path.join(lessons, 'broken.json'));
  s = await settled((x) => x.error.includes('broken.json'), 'the broken lesson\'s message');
  assert.match(s.error, /step 1 of the lesson 'broken.json': "state" is not a text/);
  assert.equal(s.lesson.title, 'A test lesson');
  assert.equal(s.lesson.step, 2);
  await close();
  close = null;

  // ---------------------------------------------------------------- a lesson that is not there
  await open('?single&lesson=/lessons/missing.json');
  s = await settled((x) => x.error.includes('could not open the lesson'), 'the missing lesson\'s message');
  assert.equal(s.lesson, null);
  assert.match(s.error, /404/);
  await close();
  close = null;

  // ---------------------------------------------------------------- the embed view keeps itself from step to step
  await open('?single&embed=1&lesson=/lessons/test-lesson.json');
  s = await settled((x) => x.lesson && x.lesson.step === 1 && x.image === 'fashion/coat-1' && x.embed, 'the embedded lesson');
  s = await fresh(page);
  await click(s, 'lesson:next');
  s = await settled((x) => x.lesson.step === 2 && x.image === 'fashion/sneaker-1' && x.target === 5, 'step 2 embedded');
  assert.equal(s.embed, true, 'a step left the embed view');
  await shot('lesson-embed-step2');
  await close();
  close = null;

  // ---------------------------------------------------------------- a teacher builds a lesson in the editor
  await open('?single');
  s = await settled((x) => x.selected_neuron, 'the app');
  await call('lrpscope_do_dismiss_hint', [], []);
  s = await fresh(page);
  await click(s, 'menu:lesson');
  s = await fresh(page);
  await click(s, 'menu:lesson:add');
  s = await settled((x) => x.lesson && x.lesson.editing && x.rects['lesson:edit-title'], 'the lesson editor');
  assert.equal(s.lesson.steps, 1);
  const typeInto = async (key, text) => {
    s = await fresh(page);
    await click(s, key);
    await page.keyboard.press('Control+A');
    await page.keyboard.type(text, { delay: 15 });
    s = await fresh(page);
  };
  await typeInto('lesson:edit-lesson-title', 'Built in the editor');
  await typeInto('lesson:edit-title', 'First view');
  await typeInto('lesson:edit-text', 'The *sneaker* as it is.');
  // a second view: another picture, another class and panel
  await call('lrpscope_do_load_sample', ['string'], ['fashion/bag-1']);
  s = await settled((x) => x.image === 'fashion/bag-1', 'the bag');
  await call('lrpscope_do_select_class', ['number'], [4]);
  await call('lrpscope_do_set_tab', ['string'], ['Layers']);
  s = await settled((x) => x.target === 4 && x.tab === 'Layers', 'class 4 in the Layers tab');
  await click(await fresh(page), 'lesson:add');
  s = await settled((x) => x.lesson.steps === 2 && x.lesson.step === 2, 'the second step');
  await typeInto('lesson:edit-title', 'Second view');
  // reorder: the second step up to the top
  await click(await fresh(page), 'lesson:up:1');
  s = await settled((x) => x.lesson.step === 1 && x.lesson.step_title === 'Second view', 'the steps reordered');
  await shot('lesson-editor');
  await click(s, 'lesson:download');
  const dl = await page.waitForFunction(() => window.lrpscope.lastDownload, null, { timeout: 10000 }).then((h) => h.jsonValue());
  const built = JSON.parse(dl.text);
  assert.equal(dl.name, 'lrpscope-lesson.json');
  assert.equal(built.title, 'Built in the editor');
  assert.deepEqual(built.steps.map((x) => x.title), ['Second view', 'First view']);
  assert.equal(built.steps[1].text, 'The *sneaker* as it is.');
  assert.match(built.steps[0].state, /image=fashion\/bag-1/);
  assert.match(built.steps[0].state, /target=4/);
  assert.match(built.steps[0].state, /panel=layers/);
  assert.match(built.steps[1].state, /image=fashion\/sneaker-1/);
  // ... and it loads again identically: the same file, at its first step with that step's view
  const file = path.join(outDir, 'downloaded.json');
  fs.writeFileSync(file, dl.text);
  await call('lrpscope_do_load_sample', ['string'], ['fashion/coat-1']);
  s = await settled((x) => x.image === 'fashion/coat-1', 'another picture');
  await page.setInputFiles('#file-lesson', file);
  s = await settled((x) => x.lesson && !x.lesson.editing && x.image === 'fashion/bag-1' && x.target === 4 && x.tab === 'Layers',
                    'the downloaded lesson, opened');
  assert.equal(s.lesson.json, dl.text);
  // the <iframe> snippet that opens it
  await click(await fresh(page), 'lesson:edit');
  s = await settled((x) => x.lesson.editing && x.rects['lesson:snippet'], 'the editor again');
  await click(s, 'lesson:snippet');
  s = await settled((x) => x.share_dialog && x.share_dialog.snippet, 'the snippet');
  assert.match(s.share_dialog.snippet, /<iframe src="[^"]*\?lesson=downloaded\.json&amp;embed=1"/);
  console.log(`lesson editor: added, edited, reordered, downloaded (${dl.text.length} bytes), opened again identically; ${s.share_dialog.snippet.split('\n')[0]}`);
  await close();
  close = null;

  // ---------------------------------------------------------------- predict, then reveal
  await open('?single&image=fashion/coat-1&predict=1');
  s = await settled((x) => x.predict.on && x.image === 'fashion/coat-1' && x.predict.w > 0, 'the picture to paint on');
  await call('lrpscope_do_dismiss_hint', [], []);
  s = await fresh(page);
  assert.ok(s.rects['predict:hidden'] && !s.rects.summary && !s.rects.heatmap && !s.rects.colourbar,
            `the explanation shows before the guess (${Object.keys(s.rects).join(', ')})`);
  // a stroke with the mouse across the upper part of the coat, and a dab lower down
  const cv = s.rects['predict:canvas'];
  const P = (fx, fy) => [cv[0] + (cv[2] - cv[0]) * fx, cv[1] + (cv[3] - cv[1]) * fy];
  await page.mouse.move(...P(0.25, 0.3));
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) { await page.mouse.move(...P(0.25 + 0.5 * i / 12, 0.3)); await page.waitForTimeout(25); }
  await page.mouse.up();
  await clickAt(page, ...P(0.5, 0.75));
  s = await fresh(page);
  const painted = [...s.predict.mask].filter((c) => c === '1').length;
  assert.ok(painted > 20 && painted < 400, `${painted} pixels painted`);
  await shot('predict-painted');
  await click(s, 'predict:reveal');
  s = await settled((x) => x.predict.revealed && x.rects.heatmap && x.rects['predict:score'], 'the reveal');
  await shot('predict-revealed');
  // the score from the CLI's relevance for the same picture and the same painted pixels
  const npy = path.join(outDir, 'npy-coat');
  execFileSync(cli, ['explain', '--model', path.join(root, 'assets/models/fashion-vgg16.safetensors'), '--image',
                     path.join(root, 'assets/samples/fashion/coat-1.png'), '--npy-dir', npy]);
  const rel = channelSum(readNpy(path.join(npy, 'relevance_input.npy')));
  assert.equal(rel.v.length, s.predict.mask.length);
  let pos = 0, inside = 0;
  rel.v.forEach((v, i) => { if (v > 0) { pos += v; if (s.predict.mask[i] === '1') inside += v; } });
  assert.ok(Math.abs(s.predict.share - inside / pos) < 1e-4, `share ${s.predict.share} in the page, ${inside / pos} from the CLI`);
  assert.ok(Math.abs(s.predict.area - painted / rel.v.length) < 1e-9);
  assert.match(s.predict.words, new RegExp(`You painted ${Math.round(100 * painted / rel.v.length)} % of the picture, and it holds ${Math.round(100 * inside / pos)} % of the evidence for Coat`));
  console.log(`predict, then reveal: ${s.predict.words}`);
  // another class is another question: the guess starts again, hidden
  await call('lrpscope_do_select_class', ['number'], [2]);
  s = await settled((x) => x.target === 2 && !x.predict.revealed && !x.predict.mask.includes('1'), 'a new guess for another class');
  await close();
  close = null;

  // ---------------------------------------------------------------- what if: black paint over the coat
  await open('?single&image=fashion/coat-1');
  s = await settled((x) => x.image === 'fashion/coat-1' && x.logits, 'the coat');
  await call('lrpscope_do_dismiss_hint', [], []);
  const logits0 = s.logits;
  s = await fresh(page);
  await click(s, 'whatif');
  s = await settled((x) => x.whatif.on && x.rects['whatif:canvas'] && x.rects['whatif:fill'], 'what if');
  await click(s, 'whatif:fill');
  s = await fresh(page);
  await click(s, 'whatif:fill:black');
  s = await settled((x) => x.whatif.fill === 2, 'black paint');
  const wc = s.rects['whatif:canvas'];
  const W = (fx, fy) => [wc[0] + (wc[2] - wc[0]) * fx, wc[1] + (wc[3] - wc[1]) * fy];
  await page.mouse.move(...W(0.15, 0.45));
  await page.mouse.down();
  for (let i = 1; i <= 14; i++) { await page.mouse.move(...W(0.15 + 0.7 * i / 14, 0.45 + 0.1 * Math.sin(i))); await page.waitForTimeout(30); }
  await page.mouse.up();
  s = await settled((x) => x.whatif.edited && x.whatif.words && x.whatif.strokes === 1, 'the painted coat explained');
  await shot('whatif-black');
  // the CLI on the same edited picture gives the same logits
  // (the model sees the 28-pixel picture in the middle of a 32-pixel black square: 'fit into 28 and pad'; black paint
  // on the padding changes nothing, so the painted picture is the original with its painted pixels black)
  const orig = decodePng(fs.readFileSync(path.join(root, 'assets/samples/fashion/coat-1.png')));
  const side = Math.round(Math.sqrt(s.whatif.mask.length)), off = (side - orig.width) / 2;
  assert.ok(side * side === s.whatif.mask.length && Number.isInteger(off) && off >= 0, `a ${side}-pixel view of a ${orig.width}-pixel picture`);
  const rgb = new Uint8Array(orig.width * orig.height * 3);
  for (let y = 0; y < orig.height; y++)
    for (let x = 0; x < orig.width; x++)
      for (let k = 0; k < 3; k++)
        rgb[(y * orig.width + x) * 3 + k] = s.whatif.mask[(y + off) * side + x + off] === '1' ? 0 : orig.data[(y * orig.width + x) * 4 + k];
  const edited = path.join(outDir, 'coat-painted.png');
  fs.writeFileSync(edited, encodePng(orig.width, orig.height, rgb));
  const want = JSON.parse(execFileSync(cli, ['predict', '--model', path.join(root, 'assets/models/fashion-vgg16.safetensors'),
                                             '--image', edited, '--json'], { encoding: 'utf8' })).logits;
  want.forEach((v, i) => assert.ok(Math.abs(v - s.logits[i]) < 1e-4 * (1 + Math.abs(v)), `logit ${i}: ${s.logits[i]} in the page, ${v} by the CLI`));
  assert.ok(want.some((v, i) => Math.abs(v - logits0[i]) > 1e-3), 'the paint did not change the logits');
  assert.match(s.whatif.words, /^Before: Coat [\d.]+ %\. After: Coat [\d.]+ %/);
  console.log(`what if: ${[...s.whatif.mask].filter((c) => c === '1').length} pixels painted black; the logits equal the CLI's on the edited picture. ${s.whatif.words}`);
  // Undo: the picture and the logits as they were; Reset picture after another stroke: the same
  await click(await fresh(page), 'whatif:undo');
  s = await settled((x) => x.whatif.strokes === 0 && x.logits.every((v, i) => Math.abs(v - logits0[i]) < 1e-5), 'the stroke undone');
  await page.mouse.move(...W(0.5, 0.2));
  await page.mouse.down();
  await page.mouse.move(...W(0.5, 0.8), { steps: 8 });
  await page.mouse.up();
  s = await settled((x) => x.whatif.edited && x.whatif.strokes === 1, 'another stroke');
  await click(await fresh(page), 'whatif:reset');
  s = await settled((x) => !x.whatif.edited && x.logits.every((v, i) => Math.abs(v - logits0[i]) < 1e-5) && !x.whatif.mask.includes('1'),
                    'the picture reset');
  await close();
  close = null;

  // ---------------------------------------------------------------- the course page's lesson, end to end
  for (const [w, h] of [[1280, 800], [390, 844]]) {
    await open('?single&lesson=examples/why-a-sneaker.json', w, h);
    s = await settled((x) => x.lesson && x.lesson.step === 1, 'the example lesson');
    const n = s.lesson.steps;
    assert.ok(n >= 6, `the example lesson has ${n} steps`);
    await call('lrpscope_do_dismiss_hint', [], []);
    for (let i = 1; i <= n; i++) {
      if (i > 1) {
        s = await fresh(page);
        await click(s, 'lesson:next');
      }
      s = await settled((x) => x.lesson.step === i && x.lesson.applied >= i, `example step ${i}`);
      assert.equal(s.error, '', `example step ${i}: ${s.error}`);
      if (w === 1280 || i <= 2) await shot(`example-${w}-step${i}`);
    }
    console.log(`${w}x${h}: the example lesson's ${n} steps apply without an error`);
    await close();
    close = null;
  }
  console.log('classroom: all checks passed');
} catch (e) {
  await reportFailure(e, { page, logs, outDir });
} finally {
  if (close) await close().catch(() => {});
  server.stop();
}
process.exit(process.exitCode || 0);
