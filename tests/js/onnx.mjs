// ONNX's conformance cases (tests/fixtures/onnx) through the JS API: tf.loadOnnxModel, inputs from
// the cases' .pb files, outputs compared with the expected .pb. Shared by Node and the browsers.
// Returns counts; a case is unsupported when the importer rejects it by name ("unsupported").
export async function onnxConformance(tf, readBytes, { every = 1 } = {}) {
  const manifest = new TextDecoder().decode(await readBytes('manifest.json'));
  const names = manifest.split('\n').map((l) => /"name": "([^"]+)"/.exec(l)?.[1]).filter(Boolean).filter((_, i) => i % every === 0);
  const counts = { cases: names.length, pass: 0, fail: 0, unsupported: 0, failures: [] };
  for (const name of names) {
    let model;
    const made = [];
    try {
      model = await tf.loadOnnxModel(await readBytes(`${name}/model.onnx`));
      const inputs = [];
      for (let i = 0; i < model.inputNames.length; i++) inputs.push(tf.decodeOnnxTensor(await readBytes(`${name}/input_${i}.pb`)));
      made.push(...inputs);
      let outs = await model.executeAsync(inputs);
      outs = Array.isArray(outs) ? outs : [outs];
      made.push(...outs);
      for (let i = 0; i < outs.length; i++) {
        const want = tf.decodeOnnxTensor(await readBytes(`${name}/output_${i}.pb`));
        made.push(want);
        if (outs[i].shape.join() !== want.shape.join()) throw new Error(`mismatch: output ${i} shape [${outs[i].shape}], expected [${want.shape}]`);
        const [g, w] = [await outs[i].data(), await want.data()];
        for (let k = 0; k < w.length; k++) {
          const ok = Number.isNaN(w[k]) ? Number.isNaN(g[k]) : want.dtype !== 'float32' || !Number.isFinite(w[k]) ? g[k] === w[k] : Math.abs(g[k] - w[k]) <= 1e-3 + 1e-3 * Math.abs(w[k]);
          if (!ok) throw new Error(`mismatch: output ${i}[${k}] = ${g[k]}, expected ${w[k]}`);
        }
      }
      counts.pass++;
    } catch (e) {
      if (/unsupported|not supported/.test(e.message)) counts.unsupported++;
      else {
        counts.fail++;
        counts.failures.push(`${name}: ${e.message}`);
      }
    } finally {
      tf.dispose(made);
      model?.dispose();
    }
  }
  return counts;
}
