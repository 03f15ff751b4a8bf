// The TF.js model-artifacts types: model.json topology + weight specs + one weight buffer.
export interface WeightsManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
}

export interface ModelArtifacts {
  modelTopology?: Record<string, unknown>;
  weightSpecs?: WeightsManifestEntry[];
  weightData?: ArrayBuffer;
  /**
   * Instead of `weightData`: the weight bytes as a stream of chunks, which loading writes straight
   * into the model's weights (on WebGPU, into device buffers) as they arrive.
   */
  weightChunks?: () => AsyncIterable<Uint8Array>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: Record<string, unknown>;
  /** A graph model's inputs and outputs (TF.js converter output). */
  signature?: Record<string, unknown>;
  userDefinedMetadata?: Record<string, unknown>;
}

export interface ModelArtifactsInfo {
  dateSaved: Date;
  modelTopologyType: 'JSON';
  modelTopologyBytes: number;
  weightSpecsBytes: number;
  weightDataBytes: number;
}

export interface SaveResult {
  modelArtifactsInfo: ModelArtifactsInfo;
  responses?: Response[];
}

export interface IOHandler {
  save?: (artifacts: ModelArtifacts) => Promise<SaveResult>;
  load?: () => Promise<ModelArtifacts>;
}

export function artifactsInfo(a: ModelArtifacts): ModelArtifactsInfo {
  return {
    dateSaved: new Date(),
    modelTopologyType: 'JSON',
    modelTopologyBytes: JSON.stringify(a.modelTopology ?? {}).length,
    weightSpecsBytes: JSON.stringify(a.weightSpecs ?? []).length,
    weightDataBytes: a.weightData?.byteLength ?? 0,
  };
}

/** Caps on what a model file may declare, checked before any allocation. */
export const LIMITS = {
  maxWeights: 100_000,
  maxElementsPerWeight: 2 ** 30,
  maxTotalBytes: 2 ** 31,
  maxNesting: 64,
};
