// tf.loadLayersModel: a Sequential model from a TF.js layers-format file.
import { handlerFor } from '../io/handlers.js';
import { modelFromArtifacts } from '../io/serialization.js';
import type { IOHandler } from '../io/types.js';
import type { LayersModel } from './sequential.js';

export async function loadLayersModel(pathOrHandler: string | IOHandler): Promise<LayersModel> {
  const handler = typeof pathOrHandler === 'string' ? handlerFor(pathOrHandler, 'loadLayersModel') : pathOrHandler;
  if (!handler?.load) throw new Error('loadLayersModel: the IO handler cannot load');
  return modelFromArtifacts(await handler.load());
}
