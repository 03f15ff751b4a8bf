// The GPT demo: a character-level transformer (token and position embeddings, causal
// multi-head attention, GELU MLPs, layer norms) built with tf.layers, trained in the page on
// Shakespeare's sonnets (www/data/sonnets.txt) with a live loss chart, and sampled with
// model.generate (a key/value cache) as it learns. The page stays responsive: one optimizer step
// per animation frame.
import * as tf from '../dist/js/index.js';
import uPlot from '../node_modules/uplot/dist/uPlot.esm.js';

const $ = (id) => document.getElementById(id);
const state = { losses: [], samples: [], steps: 0, stopped: false, running: false };
window.gptState = state; // read by the end-to-end test

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

// ---- data --------------------------------------------------------------------------------------
const text = await (await fetch('data/sonnets.txt')).text();
const chars = [...new Set(text)].sort();
const index = new Map(chars.map((c, i) => [c, i]));
const ids = Int32Array.from(text, (c) => index.get(c));
$('data-info').textContent = `the sonnets, ${text.length.toLocaleString()} characters, ${chars.length} distinct`;

// A seeded generator, so a run can be repeated.
let seed = 7;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);

/** A batch of windows: inputs [batch, context] and next-character targets, one-hot. */
function batchOf(batch, context) {
  const x = new Int32Array(batch * context), y = new Int32Array(batch * context);
  for (let b = 0; b < batch; b++) {
    const at = Math.floor(random() * (ids.length - context - 1));
    x.set(ids.subarray(at, at + context), b * context);
    y.set(ids.subarray(at + 1, at + context + 1), b * context);
  }
  return [tf.tensor(x, [batch, context], 'int32'), tf.oneHot(tf.tensor(y, [batch * context], 'int32'), chars.length)];
}

// ---- model -------------------------------------------------------------------------------------
function buildModel({ layers, width, context }) {
  const heads = Math.max(1, width / 16);
  const tokens = tf.input({ shape: [null] });
  const embedded = tf.layers.embedding({ inputDim: chars.length, outputDim: width }).apply(tokens);
  let x = tf.layers.add().apply([embedded, tf.layers.positionEmbedding({ sequenceLength: context }).apply(embedded)]);
  for (let l = 0; l < layers; l++) {
    // pre-norm blocks, as GPT-2
    const h = tf.layers.layerNormalization({ epsilon: 1e-5 }).apply(x);
    x = tf.layers.add().apply([x, tf.layers.multiHeadAttention({ numHeads: heads, keyDim: width / heads, useCausalMask: true }).apply([h, h])]);
    const m = tf.layers.layerNormalization({ epsilon: 1e-5 }).apply(x);
    const up = tf.layers.dense({ units: 4 * width, activation: 'gelu' }).apply(m);
    x = tf.layers.add().apply([x, tf.layers.dense({ units: width }).apply(up)]);
  }
  const logits = tf.layers.dense({ units: chars.length }).apply(tf.layers.layerNormalization({ epsilon: 1e-5 }).apply(x));
  return tf.model({ inputs: tokens, outputs: logits });
}

// ---- chart -------------------------------------------------------------------------------------
const lossData = [[], []];
let chart;
function resetChart() {
  lossData[0].length = 0;
  lossData[1].length = 0;
  chart?.destroy();
  chart = new uPlot({ width: 640, height: 220, title: 'training loss (cross-entropy per character)', scales: { x: { time: false } },
    series: [{ label: 'step' }, { label: 'loss', stroke: '#2563eb' }] }, lossData, $('chart-loss'));
}

// ---- sampling ----------------------------------------------------------------------------------
async function sample(model, context) {
  const start = index.get('\n');
  const t0 = performance.now();
  // Each character appears as it is generated (onToken streams them).
  let text = '';
  const onToken = ([token]) => { text += chars[token]; $('sample').textContent = text; };
  const out = await model.generate([[start]], { maxNewTokens: context - 1, temperature: 0.8, topK: 10, seed: state.steps, onToken });
  state.tokensPerSecond = (context - 1) / ((performance.now() - t0) / 1000);
  $('sample-speed').textContent = `(${state.tokensPerSecond.toFixed(0)} characters/s)`;
  return out[0].slice(1).map((i) => chars[i]).join('');
}

// ---- training ----------------------------------------------------------------------------------
async function train() {
  const cfg = { layers: Number($('layers').value), width: Number($('width').value), context: Number($('context').value) };
  const steps = Number($('steps').value), lr = Number($('lr').value), batch = 32;
  Object.assign(state, { losses: [], samples: [], steps: 0, stopped: false, running: true });
  $('train').disabled = true;
  $('stop').disabled = false;
  resetChart();
  status('training…');
  const model = buildModel(cfg);
  const optimizer = tf.train.adam(lr);
  const t0 = performance.now();
  try {
    for (let step = 1; step <= steps && !state.stopped; step++) {
      const [x, y] = batchOf(batch, cfg.context);
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }).reshape([batch * cfg.context, chars.length])), true, model.trainableWeights);
      const value = (await loss.data())[0];
      tf.dispose([x, y, loss]);
      state.steps = step;
      state.losses.push(value);
      lossData[0].push(step);
      lossData[1].push(value);
      chart.setData(lossData);
      $('loss').textContent = value.toFixed(3);
      $('progress').value = step / steps;
      $('progress-text').textContent = `step ${step} of ${steps}`;
      if (step % 50 === 0 || step === steps) {
        const s = await sample(model, cfg.context);
        state.samples.push(s);
        $('sample').textContent = s;
      }
      await tf.nextFrame(); // let the page paint and take input between steps
    }
    const seconds = (performance.now() - t0) / 1000;
    state.trainSeconds = seconds;
    $('train-time').textContent = `(${state.steps} steps in ${seconds.toFixed(1)} s, ${(state.steps / seconds).toFixed(1)} steps/s)`;
    status('trained');
  } catch (e) {
    status(`training failed: ${e.message}`, true);
    throw e;
  } finally {
    model.dispose();
    optimizer.dispose?.();
    state.running = false;
    $('train').disabled = false;
    $('stop').disabled = true;
  }
}

// ---- wiring ------------------------------------------------------------------------------------
async function useBackend(name) {
  status(`starting ${name}…`);
  $('train').disabled = true;
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not start`);
  $('device').textContent = `${tf.getBackend()} (${tf.backendInfo()})`;
  $('train').disabled = false;
  status('ready');
}

$('backend').addEventListener('change', (e) => useBackend(e.target.value).catch((err) => status(err.message, true)));
$('train').addEventListener('click', () => train().catch(() => {}));
$('stop').addEventListener('click', () => { state.stopped = true; });
await tf.ready();
$('backend').value = tf.getBackend();
await useBackend(tf.getBackend()).catch((err) => status(err.message, true));
