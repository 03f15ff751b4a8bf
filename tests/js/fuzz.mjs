// A seeded fuzz of the JS API: random calls with wrong shapes, wrong dtypes, NaN/Infinity, empty
// and zero-size tensors, huge or negative sizes, disposed tensors, wrong argument types and
// unknown names. Every call must either work or throw a JS Error; none may trap the wasm module
// (a trap is a WebAssembly.RuntimeError, and poisons everything after it).
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SHAPES = [[], [0], [1], [3], [2, 3], [3, 2], [2, 0, 3], [1, 1, 1, 1], [4, 4, 4, 1], [2, 3, 4], [1, 2, 2, 3],
  [-1], [2.5], [1e6, 1e6], [2 ** 31], [3, -2], ['a'], null, [1, 1, 1, 1, 1, 1, 1, 1, 1]];
const VALUES = [0, 1, -1, NaN, Infinity, -Infinity, 1e30, -1e-30, 0.5];
const DTYPES = ['float32', 'int32', 'bool', 'float64', 'complex64', '', undefined];
const NAMES = ['relu', 'nope', 'softmax', '', 'linear', undefined, 42];

export async function fuzz(tf, calls, seed = 1) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const pool = [];
  const make = () => {
    const shape = pick(SHAPES.slice(0, 11));
    const n = shape.reduce((p, q) => p * q, 1);
    const dtype = pick(['float32', 'float32', 'int32', 'bool']);
    return tf.tensor(Array.from({ length: n }, () => (dtype === 'bool' ? r() < 0.5 : pick(VALUES))), shape, dtype);
  };
  const arg = () => (r() < 0.75 && pool.length ? pick(pool) : r() < 0.5 ? pick(VALUES) : pick([null, undefined, 'x', {}, [1, 2], [[1], [2, 3]]]));
  const ops = [
    () => tf.add(arg(), arg()), () => tf.sub(arg(), arg()), () => tf.mul(arg(), arg()), () => tf.div(arg(), arg()),
    () => tf.pow(arg(), arg()), () => tf.maximum(arg(), arg()), () => tf.equal(arg(), arg()), () => tf.where(arg(), arg(), arg()),
    () => tf.matMul(arg(), arg(), r() < 0.5, r() < 0.5), () => tf.exp(arg()), () => tf.log(arg()), () => tf.sqrt(arg()),
    () => tf.relu(arg()), () => tf.sigmoid(arg()), () => tf.softmax(arg(), Math.floor(r() * 8) - 4), () => tf.logSoftmax(arg()),
    () => tf.sum(arg(), Math.floor(r() * 10) - 5, r() < 0.5), () => tf.mean(arg(), [0, 1]), () => tf.max(arg(), pick([0, -1, 7, 1.5])),
    () => tf.argMax(arg(), Math.floor(r() * 6) - 3), () => tf.reshape(arg(), pick(SHAPES)), () => tf.transpose(arg(), pick([[1, 0], [0, 0], [2, 1, 0], [5], undefined])),
    () => tf.slice(arg(), pick([[0], [1, 1], [-1], [0, 0, 0, 0]]), pick([[1], [-1, 2], [5, 5], undefined])),
    () => tf.concat([arg(), arg()], Math.floor(r() * 4) - 2), () => tf.stack([arg(), arg()]), () => tf.gather(arg(), arg(), Math.floor(r() * 3) - 1),
    () => tf.oneHot(arg(), pick([0, -3, 3, 1e9, 2.5])), () => tf.cast(arg(), pick(DTYPES)), () => tf.clipByValue(arg(), pick(VALUES), pick(VALUES)),
    () => tf.conv2d(arg(), arg(), pick([1, 2, 0, -1]), pick(['same', 'valid', 'full'])), () => tf.maxPool(arg(), pick([2, 0, 100]), pick([1, 2, 0]), pick(['same', 'valid'])),
    () => tf.avgPool(arg(), 2, 2, 'same'), () => tf.pad(arg(), pick([[[1, 1]], [[1, 1], [0, 2]], [[-1, 2]], [[2 ** 31, 0]]])),
    () => tf.zeros(pick(SHAPES), pick(DTYPES)), () => tf.ones(pick(SHAPES)), () => tf.fill(pick(SHAPES), pick(VALUES), pick(DTYPES)),
    () => tf.randomNormal(pick(SHAPES)), () => tf.randomUniform(pick(SHAPES), pick(VALUES), pick(VALUES)),
    () => tf.tensor(pick([[1, 2, 3], [[1, 2], [3]], 'abc', null, [NaN, Infinity], new Float32Array(3)]), pick(SHAPES), pick(DTYPES)),
    () => tf.broadcastTo(arg(), pick(SHAPES)), () => tf.expandDims(arg(), Math.floor(r() * 8) - 4), () => tf.squeeze(arg()),
    () => tf.split(arg(), pick([2, 3, [1, 1], 0])), () => tf.unstack(arg(), Math.floor(r() * 4) - 2),
    () => tf.dropout(arg(), pick([0.5, 1.5, -1, NaN])), () => tf.moments(arg(), pick([0, [0, 1], 9])),
    () => tf.layers.dense({ units: pick([1, 0, -2, 2.5, NaN]), activation: pick(NAMES), inputShape: pick(SHAPES) }),
    () => tf.layers.conv2d({ filters: pick([1, 0, -1]), kernelSize: pick([3, 0, [2, 2]]), inputShape: pick(SHAPES) }),
    () => tf.sequential().compile({ optimizer: pick(['adam', 'nope', 3]), loss: pick(['mse', 'nope', null]) }),
    () => { const t = pick(pool); t?.dispose(); return t?.add(1); },
    () => tf.grad((x) => x.square().sum())(arg()),
    () => tf.train.sgd(pick([0.1, -1, NaN, 0])),
    () => arg()?.dataSync?.(),
  ];
  let errors = 0, traps = 0, ok = 0;
  const kinds = new Map();
  for (let i = 0; i < calls; i++) {
    if (pool.length < 6 || r() < 0.15) {
      try { pool.push(make()); } catch { /* a bad random tensor is fine */ }
      if (pool.length > 24) pool.shift().dispose();
    }
    const op = pick(ops);
    const n0 = tf.memory().numTensors;
    try {
      const out = op();
      ok++;
      const list = Array.isArray(out) ? out : out && typeof out === 'object' && !('isDisposed' in out) ? Object.values(out) : [out];
      for (const t of list) if (t && typeof t.dispose === 'function' && !pool.includes(t)) t.dispose();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError || !(e instanceof Error)) {
        traps++;
        throw new Error(`fuzz call ${i} trapped the module or threw a non-Error: ${e && e.stack || e}`);
      }
      if (!e.message || e.message.length < 8) throw new Error(`fuzz call ${i}: unclear error message "${e.message}"`);
      errors++;
      if (globalThis.FUZZ_DEBUG && tf.memory().numTensors > n0) console.log('leak', tf.memory().numTensors - n0, op.toString().slice(0, 80), e.message.slice(0, 80));
      const k = e.message.split(':')[0].slice(0, 30);
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    if (i % 500 === 0) await new Promise((res) => setTimeout(res, 0));
  }
  pool.forEach((t) => t.dispose());
  return { calls, ok, errors, traps, kinds: Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1]).slice(0, 12)) };
}
