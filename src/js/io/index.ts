// tf.io: IO handlers, as TF.js names them.
import { downloads, fromMemory, getLoadHandlers, getSaveHandlers, http, indexedDb, localStorageHandler, registerLoadRouter, registerSaveRouter, withSaveHandler } from './handlers.js';
import { CompositeArrayBuffer, decodeWeightsStream, getModelArtifactsForJSON, getModelArtifactsForJSONSync, loadWeights, weightsLoaderFactory, browserFiles, concatenateArrayBuffers, copyModel, decodeWeights, encodeWeights, fromMemorySync, getModelArtifactsInfoForJSON, getWeightSpecs, isHTTPScheme, listModels, moveModel, removeModel, withSaveHandlerSync } from './manage.js';

export const io = {
  browserHTTPRequest: http,
  http,
  fromMemory,
  withSaveHandler,
  browserDownloads: downloads,
  browserIndexedDB: indexedDb,
  browserLocalStorage: localStorageHandler,
  browserFiles,
  listModels,
  copyModel,
  moveModel,
  removeModel,
  encodeWeights,
  decodeWeights,
  getWeightSpecs,
  isHTTPScheme,
  concatenateArrayBuffers,
  getModelArtifactsInfoForJSON,
  fromMemorySync,
  withSaveHandlerSync,
  registerLoadRouter,
  registerSaveRouter,
  getLoadHandlers,
  getSaveHandlers,
  CompositeArrayBuffer,
  getModelArtifactsForJSON,
  loadWeights,
  weightsLoaderFactory,
  decodeWeightsStream,
  getModelArtifactsForJSONSync,
};
export type { IOHandler, ModelArtifacts, SaveResult, WeightsManifestEntry } from './types.js';
