// Keras 3 `.keras` files, read in the page: a zip (fflate) of config.json and model.weights.h5,
// whose HDF5 is read by jsfive (pure JS). The config maps onto the same layer set as TF.js layers
// models; each layer's weights are its `layers/<path>/vars/<i>` datasets, found by the `name`
// attribute Keras writes on each vars group.
import { tensor } from '../ops.js';
import type { LayersModel } from '../models/sequential.js';
import { modelWithoutWeights, overBudget } from './serialization.js';
import { withWeightBudget } from '../layers/layer.js';
import { bytesFrom } from './bytes.js';
import { unzipChecked } from './zip.js';

const OP = 'loadKerasModel';
// The parts of a .keras file that are read, and the most each may inflate to.
const MAX_CONFIG_BYTES = 16 * 2 ** 20;
// HDF5's bookkeeping in model.weights.h5 beyond the weights' bytes: the superblock and root
// groups, then per weight its dataset header and its layer's groups. Keras writes about 0.3 KB
// per weight (the fixtures: 3-8 KB over the weights); these bounds leave ample room.
const H5_BYTES_BASE = 64 * 2 ** 10;
const H5_BYTES_PER_WEIGHT = 16 * 2 ** 10;

type Dataset = import('jsfive').Dataset;
type Group = import('jsfive').Group;

/** Loads a Keras 3 `.keras` model (Sequential or functional) from a URL or its bytes. */
export async function loadKerasModel(source: string | ArrayBuffer | Uint8Array): Promise<LayersModel> {
  const bytes = await bytesFrom(source, OP);
  // Loaded on first use: pages that never read .keras files do not download them.
  const [{ unzipSync, strFromU8 }, hdf5, { default: crc32 }] = await Promise.all([import('fflate'), import('jsfive'), import('crc/calculators/crc32')]);
  const zip = { unzipSync, crc32 };
  // First the config alone, noting the size the weights file declares without inflating it.
  let h5Declared: number | undefined;
  const { 'config.json': configBytes } = unzipChecked(zip, bytes, OP, (name, size) => {
    if (name === 'model.weights.h5') h5Declared = size;
    return name === 'config.json' ? MAX_CONFIG_BYTES : undefined;
  });
  if (!configBytes) throw new Error(`${OP}: the archive has no config.json; is it a Keras 3 .keras file?`);
  let config: unknown;
  try {
    config = JSON.parse(strFromU8(configBytes));
  } catch (e) {
    throw new Error(`${OP}: config.json is not JSON: ${(e as Error).message}`);
  }
  // The layers may create no more weight bytes than the weights file declares, and the weights
  // file may inflate to no more than those weights plus HDF5's bookkeeping for them.
  const model = withWeightBudget(h5Declared ?? 0, overBudget(OP, h5Declared === undefined ? 'the archive (it has no model.weights.h5)' : 'model.weights.h5'), () =>
    modelWithoutWeights({ modelTopology: config as Record<string, unknown> }));
  try {
    const layersWithWeights = model.layers.filter((l) => l.weights.length > 0);
    if (h5Declared === undefined) {
      if (layersWithWeights.length) throw new Error(`${OP}: the archive has no model.weights.h5`);
      return model;
    }
    const weights = model.weights;
    const cap = weights.reduce((n, w) => n + 4 * w.size, 0) + H5_BYTES_BASE + H5_BYTES_PER_WEIGHT * weights.length;
    const { 'model.weights.h5': h5 } = unzipChecked(zip, bytes, OP, (name) => (name === 'model.weights.h5' ? cap : undefined));
    let root: Group;
    try {
      root = new hdf5.File(h5.buffer.slice(h5.byteOffset, h5.byteOffset + h5.byteLength) as ArrayBuffer, 'model.weights.h5');
    } catch (e) {
      // jsfive throws strings and bare objects as well as Errors.
      throw new Error(`${OP}: model.weights.h5 is not a readable HDF5 file (${(e as Error)?.message ?? String(e)})`);
    }
    const vars = varsByLayerName(root);
    for (const layer of layersWithWeights) {
      const group = vars.get(layer.name);
      if (!group) throw new Error(`${OP}: no weights for layer '${layer.name}' in model.weights.h5`);
      // Layers made of sublayers (MultiHeadAttention) keep their weights in the sublayers' groups.
      const sublayers = (layer as { kerasSublayers?: string[] }).kerasSublayers;
      const found = sublayers ? sublayers.flatMap((sub) => datasetsOf(group.get(`${sub}/vars`) as Group | null)) : datasetsOf(group.get('vars') as Group | null);
      const want = layer.weights;
      if (found.length !== want.length) throw new Error(`${OP}: layer '${layer.name}' has ${found.length} weights in the file but needs ${want.length}`);
      want.forEach((w, i) => {
        const d = found[i];
        if (d.shape.join() !== w.shape.join()) throw new Error(`${OP}: weight ${i} of layer '${layer.name}' has shape [${d.shape}] in the file but [${w.shape}] in the model`);
        const t = tensor(Float32Array.from(d.value), w.shape);
        w.assign(t);
        t.dispose();
      });
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** layer name -> its group `layers/<key>` (named by the `name` attribute of `layers/<key>/vars`). */
function varsByLayerName(root: Group): Map<string, Group> {
  const out = new Map<string, Group>();
  const layers = root.get('layers') as Group | null;
  for (const key of layers?.keys ?? []) {
    const vars = layers!.get(`${key}/vars`) as Group | null;
    if (!vars?.keys) continue;
    out.set(String(vars.attrs?.name ?? key), layers!.get(key) as Group);
  }
  return out;
}

/** The weight datasets of a `vars` group, in their numbered order. */
function datasetsOf(vars: Group | null): Dataset[] {
  return (vars?.keys ?? [])
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => vars!.get(k) as Dataset);
}
