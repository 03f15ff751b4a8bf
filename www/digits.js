// The digits demo: imports the package like a user would, trains on scikit-learn's 8x8 digits
// (www/data/digits.bin), charts the loss live with uPlot, and predicts what you draw.
import * as tf from '../dist/js/index.js';
import uPlot from '../node_modules/uplot/dist/uPlot.esm.js';

const $ = (id) => document.getElementById(id);
const SAVE_URL = 'indexeddb://webtensor-digits';
const state = { model: null, batchPoints: 0, epochPoints: 0, trained: false };
window.demoState = state; // read by the end-to-end test

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

// ---- data --------------------------------------------------------------------------------------
async function loadDigits() {
  const buf = new Uint8Array(await (await fetch('data/digits.bin')).arrayBuffer());
  const n = 1797;
  const pixels = Float32Array.from(buf.subarray(0, n * 64), (v) => v / 16);
  const labels = Int32Array.from(buf.subarray(n * 64, n * 65));
  // Fixed-seed shuffle, then 80% train / 20% test.
  const order = Array.from({ length: n }, (_, i) => i);
  let s = 42;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nTrain = Math.round(n * 0.8);
  const take = (idx) => ({
    x: Float32Array.from(idx.flatMap((i) => Array.from(pixels.subarray(i * 64, i * 64 + 64)))),
    y: Int32Array.from(idx.map((i) => labels[i])),
    n: idx.length,
  });
  return { train: take(order.slice(0, nTrain)), test: take(order.slice(nTrain)) };
}

// ---- model -------------------------------------------------------------------------------------
function buildModel(kind, lr) {
  const m = tf.sequential();
  if (kind === 'cnn') {
    m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [8, 8, 1] }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
  } else {
    m.add(tf.layers.flatten({ inputShape: [8, 8, 1] }));
    m.add(tf.layers.dense({ units: 64, activation: 'relu' }));
  }
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  m.compile({ optimizer: tf.train.adam(lr), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

// ---- charts --------------------------------------------------------------------------------------
const batchData = [[], []];
const epochData = [[], [], [], []];
let batchChart, epochChart;
function makeCharts() {
  const width = Math.min(460, document.querySelector('main').clientWidth - 40);
  batchChart?.destroy();
  epochChart?.destroy();
  batchData.forEach((a) => (a.length = 0));
  epochData.forEach((a) => (a.length = 0));
  batchChart = new uPlot({
    title: 'loss per batch', width, height: 220,
    scales: { x: { time: false } },
    series: [{ label: 'batch' }, { label: 'loss', stroke: '#c33' }],
  }, batchData, $('chart-batch'));
  epochChart = new uPlot({
    title: 'per epoch', width, height: 220,
    scales: { x: { time: false }, acc: { range: [0, 1] } },
    axes: [{}, { scale: 'loss', label: 'loss' }, { scale: 'acc', side: 1, label: 'accuracy', grid: { show: false } }],
    series: [{ label: 'epoch' }, { label: 'loss', stroke: '#c33', scale: 'loss' },
      { label: 'train acc', stroke: '#36c', scale: 'acc' }, { label: 'test acc', stroke: '#3a3', scale: 'acc' }],
  }, epochData, $('chart-epoch'));
  state.batchPoints = 0;
  state.epochPoints = 0;
}

// ---- training ------------------------------------------------------------------------------------
let data;
async function train() {
  $('train').disabled = true;
  $('save').disabled = true;
  try {
    if (!(await tf.setBackend($('backend').value))) throw new Error(`backend ${$('backend').value} is not available here`);
    $('device').textContent = tf.backendInfo();
    state.model?.dispose();
    const epochs = Number($('epochs').value), batchSize = Number($('batch').value), lr = Number($('lr').value);
    const model = state.model = buildModel($('model').value, lr);
    makeCharts();
    const x = tf.tensor(data.train.x, [data.train.n, 8, 8, 1]);
    const y = tf.oneHot(tf.tensor(data.train.y, [data.train.n], 'int32'), 10);
    const xTest = tf.tensor(data.test.x, [data.test.n, 8, 8, 1]);
    const yTest = tf.oneHot(tf.tensor(data.test.y, [data.test.n], 'int32'), 10);
    const batchesPerEpoch = Math.ceil(data.train.n / batchSize);
    const t0 = performance.now();
    let step = 0;
    status('training…');
    await model.fit(x, y, {
      epochs, batchSize, validationData: [xTest, yTest],
      callbacks: {
        onBatchEnd: async (b, logs) => {
          step++;
          batchData[0].push(step);
          batchData[1].push(logs.loss);
          state.batchPoints++;
          if (step % 5 === 0) batchChart.setData(batchData);
          $('progress').value = step / (epochs * batchesPerEpoch);
          $('progress-text').textContent = `epoch ${Math.floor((step - 1) / batchesPerEpoch) + 1}/${epochs}`;
        },
        onEpochEnd: async (epoch, logs) => {
          epochData[0].push(epoch + 1);
          epochData[1].push(logs.loss);
          epochData[2].push(logs.acc);
          epochData[3].push(logs.val_acc);
          state.epochPoints++;
          batchChart.setData(batchData);
          epochChart.setData(epochData);
        },
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    await showTestResults(model, xTest, data.test.y);
    $('train-time').textContent = `(${epochs} epochs in ${seconds.toFixed(1)} s on ${tf.getBackend()})`;
    state.trainSeconds = seconds;
    tf.dispose([x, y, xTest, yTest]);
    state.trained = true;
    $('save').disabled = false;
    status('trained: draw a digit');
    await predictDrawing();
  } catch (e) {
    status(String(e.message ?? e), true);
  } finally {
    $('train').disabled = false;
  }
}

async function showTestResults(model, xTest, labels) {
  const pred = tf.tidy(() => model.predict(xTest).argMax(-1));
  const p = await pred.data();
  pred.dispose();
  const cm = Array.from({ length: 10 }, () => new Array(10).fill(0));
  let correct = 0;
  p.forEach((v, i) => { cm[labels[i]][v]++; if (v === labels[i]) correct++; });
  const acc = correct / labels.length;
  state.testAccuracy = acc;
  $('test-acc').textContent = `${(acc * 100).toFixed(1)}%`;
  let html = '<table class="confusion"><tr><th>true \\ predicted</th>' + cm.map((_, j) => `<th>${j}</th>`).join('') + '</tr>';
  cm.forEach((row, i) => { html += `<tr><th>${i}</th>` + row.map((c, j) => `<td class="${i === j ? 'diag' : ''}">${c}</td>`).join('') + '</tr>'; });
  $('confusion').innerHTML = html + '</table>';
}

// ---- drawing -------------------------------------------------------------------------------------
const pad = $('pad');
const ctx = pad.getContext('2d');
function clearPad() {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
  $('prediction').textContent = '–';
  $('probs').innerHTML = '';
}
let drawing = false;
function point(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * (pad.width / r.width), (e.clientY - r.top) * (pad.height / r.height)];
}
pad.addEventListener('pointerdown', (e) => { drawing = true; const [x, y] = point(e); ctx.beginPath(); ctx.moveTo(x, y); });
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const [x, y] = point(e);
  ctx.strokeStyle = '#fff'; ctx.lineWidth = 16; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  ctx.lineTo(x, y); ctx.stroke();
});
window.addEventListener('pointerup', () => { if (drawing) { drawing = false; predictDrawing(); } });

/** The drawing as the dataset sees digits: 8x8 block averages scaled to 0..1. */
function drawingPixels() {
  const img = ctx.getImageData(0, 0, pad.width, pad.height).data;
  const out = new Float32Array(64);
  const block = pad.width / 8;
  for (let by = 0; by < 8; by++) for (let bx = 0; bx < 8; bx++) {
    let s = 0;
    for (let y = by * block; y < (by + 1) * block; y++) for (let x = bx * block; x < (bx + 1) * block; x++) s += img[(y * pad.width + x) * 4];
    out[by * 8 + bx] = Math.min(1, s / (block * block * 255) * 1.6);
  }
  return out;
}

async function predictDrawing() {
  if (!state.model) return;
  const pixels = drawingPixels();
  if (pixels.every((v) => v === 0)) return;
  const probs = tf.tidy(() => state.model.predict(tf.tensor(pixels, [1, 8, 8, 1])));
  const p = Array.from(await probs.data());
  probs.dispose();
  const best = p.indexOf(Math.max(...p));
  $('prediction').textContent = String(best);
  $('prediction').dataset.probs = JSON.stringify(p);
  $('probs').innerHTML = p.map((v, i) => `<div class="bar">${i} <span style="width:${(v * 120).toFixed(0)}px"></span> ${(v * 100).toFixed(1)}%</div>`).join('');
}

/** The model's probabilities for 64 pixels in 0..1 (used by the end-to-end test to compare
 * models exactly, independent of how a drawn stroke was rasterised). */
state.predictPixels = async (pixels) => {
  const probs = tf.tidy(() => state.model.predict(tf.tensor(pixels, [1, 8, 8, 1])));
  const p = Array.from(await probs.data());
  probs.dispose();
  return p;
};

// ---- save / load ---------------------------------------------------------------------------------
async function save() {
  await state.model.save(SAVE_URL);
  status(`saved to ${SAVE_URL}`);
}
async function load() {
  try {
    if (!(await tf.setBackend($('backend').value))) throw new Error('backend unavailable');
    $('device').textContent = tf.backendInfo();
    state.model?.dispose();
    state.model = await tf.loadLayersModel(SAVE_URL);
    $('save').disabled = false;
    status(`loaded from ${SAVE_URL}`);
    await predictDrawing();
  } catch (e) {
    status(`load failed: ${e.message ?? e}`, true);
  }
}

// ---- start ---------------------------------------------------------------------------------------
clearPad();
$('clear').addEventListener('click', clearPad);
$('train').addEventListener('click', train);
$('save').addEventListener('click', save);
$('load').addEventListener('click', load);
await tf.ready();
if (tf.getBackend() !== 'webgpu') $('backend').value = 'cpu';
$('device').textContent = tf.backendInfo();
data = await loadDigits();
$('data-info').textContent = `${data.train.n} training and ${data.test.n} test images (8×8, scikit-learn digits)`;
makeCharts();
$('train').disabled = false;
status('ready');
