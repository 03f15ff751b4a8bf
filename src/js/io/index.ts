// tf.io: IO handlers, as TF.js names them.
import { downloads, fromMemory, http, indexedDb, localStorageHandler, withSaveHandler } from './handlers.js';

export const io = {
  browserHTTPRequest: http,
  http,
  fromMemory,
  withSaveHandler,
  browserDownloads: downloads,
  browserIndexedDB: indexedDb,
  browserLocalStorage: localStorageHandler,
};
export type { IOHandler, ModelArtifacts, SaveResult, WeightsManifestEntry } from './types.js';
