// tf.quantizeLayers (webtensor): a layers model's Dense kernels to 4- or 8-bit blocks, in place.
// The kernels freeze (the matmul's gradient reaches its input, not the codes); biases and every
// other layer keep training, and the model saves and loads quantized (the Dense config carries
// kernelQuantization, its weights kernel_codes, kernel_scales and kernel_zero_points).
import { Dense } from './layers/core.js';
import type { Layer } from './layers/layer.js';
import { quantizeOptions, type QuantizeOptions } from './quantize.js';

export interface QuantizeLayersOptions extends QuantizeOptions {
  /** Kernels with fewer weights than this stay float32 (default 0: every Dense). */
  minWeights?: number;
}

/** What tf.quantizeLayers did: the layers it quantized, and their kernels' bytes before and after. */
export interface QuantizeLayersResult {
  layers: string[];
  bytesBefore: number;
  bytesAfter: number;
}

/**
 * Quantizes the kernel of every built Dense layer of `model` (and of layers nested in its
 * layers), in place. MultiHeadAttention's own projections stay float32.
 */
export function quantizeLayers(model: { layers: Layer[] }, options: QuantizeLayersOptions = {}): QuantizeLayersResult {
  const op = 'quantizeLayers';
  if (!model || !Array.isArray((model as { layers?: unknown }).layers)) throw new Error(`${op}: expected a layers model (tf.sequential or tf.model)`);
  if (options === null || typeof options !== 'object') throw new Error(`${op}: options must be an object`);
  const { minWeights = 0, ...rest } = options;
  if (typeof minWeights !== 'number' || !(minWeights >= 0)) throw new Error(`${op}: minWeights must be a non-negative number`);
  const q = quantizeOptions(op, rest);
  const result: QuantizeLayersResult = { layers: [], bytesBefore: 0, bytesAfter: 0 };
  const visit = (layer: Layer) => {
    layer.innerLayers.forEach(visit);
    if (!(layer instanceof Dense) || layer.kernelQuantized) return;
    const kernel = layer.weights.find((w) => w.name.endsWith('/kernel'));
    if (!kernel || kernel.size < minWeights) return;
    const { before, after } = layer.quantizeKernel(q);
    result.layers.push(layer.name);
    result.bytesBefore += before;
    result.bytesAfter += after;
  };
  model.layers.forEach(visit);
  return result;
}
