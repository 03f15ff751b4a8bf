// webtensor: a TF.js-compatible API (`import * as tf from 'webtensor'`) over a Rust engine on
// WebGPU (wgpu) with a CPU fallback. Call `await tf.ready()` once before the first op.
export { ready, setBackend, isDeviceLost, simulateDeviceLoss, maxTensorBytes, compileAhead, compiledKernels, getBackend, backendInfo, tidy, tidyAsync, keep, dispose, memory, opTable, type MemoryInfo, type OpRow } from './engine.js';
export { Tensor, Variable, SyncReadbackError, type DataType, type TensorLike, type TypedArray } from './tensor.js';
export * from './ops.js';
export { conv3d, conv3dTranspose, maxPool3d, avgPool3d } from './volumetric.js';
export { dilation2d, maxPoolWithArgmax } from './window_max.js';
export { grad, grads, valueAndGrad, valueAndGrads } from './gradients.js';
export { train, Optimizer, SGDOptimizer, MomentumOptimizer, AdamOptimizer, RMSPropOptimizer, AdagradOptimizer, AdamaxOptimizer, AdadeltaOptimizer } from './optimizers.js';
export { losses, Reduction } from './losses.js';
export { metrics } from './metrics.js';
export { image, browser } from './image.js';
export { regularizers, constraints } from './regularizers.js';
export { fused, math, signal, linalg } from './namespaces.js';
export { buffer, TensorBuffer, Rank } from './buffer.js';
export { data } from './data.js';
export { initializers } from './initializers.js';
export { layers, Layer } from './layers/index.js';
export { sequential, Sequential, LayersModel, History } from './models/sequential.js';
export { model, Functional } from './models/functional.js';
export { input } from './layers/input.js';
export { SymbolicTensor } from './layers/symbolic.js';
export { callbacks, EarlyStopping, Callback, CustomCallback, CallbackList } from './models/callbacks.js';
export { loadLayersModel, models } from './models/load.js';
export { loadOnnxModel, decodeOnnxTensor, OnnxGraphModel } from './models/onnx.js';
export { loadKerasModel } from './io/keras.js';
export { loadGraphModel, GraphModel } from './models/graph.js';
export { io, type IOHandler, type ModelArtifacts, type SaveResult } from './io/index.js';
export const version = { webtensor: '0.1.0' };
