// The state a generate() loop sets while it runs a model a few positions at a time: where this
// call's positions start, and each attention layer's key/value cache (preallocated for the whole
// generation and written in place, so a step copies nothing of the past).
import type { Tensor } from '../tensor.js';

export interface KVCache {
  /** [batch, heads, capacity, keyDim] and [batch, heads, capacity, valueDim]. */
  k: Tensor;
  v: Tensor;
}

export interface DecodeState {
  /** The position of this call's first token. */
  position: number;
  caches: Map<object, KVCache>;
}

let current: DecodeState | null = null;

/** The decoding state while generate() runs a model, else null. */
export function decodeState(): DecodeState | null {
  return current;
}

/** Runs `f` with `state` as the decoding state. */
export function withDecodeState<T>(state: DecodeState, f: () => T): T {
  const previous = current;
  current = state;
  try {
    return f();
  } finally {
    current = previous;
  }
}
