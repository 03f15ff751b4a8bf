// tf.loadLayersModel: a Sequential model from a TF.js layers-format file.
import { handlerFor } from '../io/handlers.js';
import { loadModelFromArtifacts } from '../io/serialization.js';
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
