// tf.loadLayersModel: a Sequential model from a TF.js layers-format file.
import { handlerFor } from '../io/handlers.js';
import { LAYER_DTYPES, loadModelFromArtifacts, modelFromArtifacts, modelWithoutWeights } from '../io/serialization.js';
import { checkWeights } from '../io/weights.js';
import { concatenateArrayBuffers, fetchShards, getWeightSpecs, shardURLs, type Manifest } from '../io/manage.js';
import { loadKerasModel } from '../io/keras.js';
import type { IOHandler } from '../io/types.js';
import type { LayersModel } from './sequential.js';

export async function loadLayersModel(pathOrHandler: string | IOHandler): Promise<LayersModel> {
  // A Keras 3 file (what model.save('x.keras') writes) loads as such.
  if (typeof pathOrHandler === 'string' && /\.keras([?#].*)?$/.test(pathOrHandler)) return loadKerasModel(pathOrHandler);
  const handler = typeof pathOrHandler === 'string' ? handlerFor(pathOrHandler, 'loadLayersModel') : pathOrHandler;
  if (!handler?.load) throw new Error('loadLayersModel: the IO handler cannot load');
  // A URL's weights stream into the model's (device) buffers as they download.
  return loadModelFromArtifacts(await handler.load());
}

/**
 * tf.models.modelFromJSON: a model from its topology JSON (Keras or TF.js layers format), alone or
 * as { modelTopology, weightsManifest, pathPrefix }, whose weight shards are then fetched.
 */
async function modelFromJSON(config: Record<string, unknown>, customObjects?: unknown): Promise<LayersModel> {
  const op = 'models.modelFromJSON';
  if (!config || typeof config !== 'object') throw new Error(`${op}: expected the model's JSON object`);
  if (customObjects !== undefined) throw new Error(`${op}: customObjects are not supported`);
  const modelTopology = (config.modelTopology ?? config) as Record<string, unknown>;
  const manifest = config.weightsManifest as Manifest | undefined;
  if (!manifest) return modelWithoutWeights({ modelTopology });
  if (!Array.isArray(manifest)) throw new Error(`${op}: weightsManifest must be an array`);
  checkWeights(op, getWeightSpecs(manifest), undefined, { streamed: true, dtypes: LAYER_DTYPES }); // before anything is fetched
  const shards = await fetchShards(shardURLs(manifest, (config.pathPrefix as string | undefined) ?? ''));
  return modelFromArtifacts({ modelTopology, weightSpecs: getWeightSpecs(manifest), weightData: concatenateArrayBuffers(shards) });
}

export const models = { modelFromJSON };
