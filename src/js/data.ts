// A small tf.data: datasets of elements (tensors, or arrays / objects of them, or plain values)
// built from arrays, generators or functions (or read from sources: data_sources.ts), transformed lazily (map, filter, batch,
// shuffle, take, skip, repeat, prefetch) and iterated asynchronously; model.fitDataset trains
// on one. Batching stacks the tensors (and numbers) of each field, as TF.js's does.
import * as ops from './ops.js';
import { dispose, tidy } from './engine.js';
import { describe, intArg } from './args.js';
import { Tensor } from './tensor.js';
import { mulberry32 } from './random.js';

type Iter<T> = AsyncIterator<T>;


const numeric = (x: unknown): boolean => Array.isArray(x) && x.length > 0 && (x.every((v) => typeof v === 'number' || typeof v === 'boolean') || x.every(numeric));

/** Stacks a list of like elements: tensors along a new first axis, numbers into a vector, fields recursively. */
function collate(items: unknown[]): unknown {
  const first = items[0];
  if (first instanceof Tensor) return ops.stack(items as Tensor[], 0);
  if (typeof first === 'number' || typeof first === 'boolean') return ops.tensor(items as number[]);
  // arrays of numbers are values (stacked into one tensor), as TF.js batches them
  if (numeric(first)) return ops.tensor(items as number[][]);
  if (Array.isArray(first)) return first.map((_, i) => collate(items.map((it) => (it as unknown[])[i])));
  if (first && typeof first === 'object') return Object.fromEntries(Object.keys(first).map((k) => [k, collate(items.map((it) => (it as Record<string, unknown>)[k]))]));
  return items;
}


export class Dataset<T = unknown> {
  /** @internal */
  constructor(private readonly make: () => Iter<T>, readonly size: number | null = null) {}

  async iterator(): Promise<Iter<T>> { return this.make(); }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    const it = this.make();
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }

  private derive<U>(gen: (source: Iter<T>) => AsyncGenerator<U>, size: number | null): Dataset<U> {
    return new Dataset<U>(() => gen(this.make()), size);
  }

  map<U>(transform: (x: T) => U | Promise<U>): Dataset<U> {
    return this.derive(async function* (src) {
      for (let r = await src.next(); !r.done; r = await src.next()) {
        const value = r.value;
        yield await transform(value);
      }
    }, this.size);
  }

  mapAsync<U>(transform: (x: T) => Promise<U>): Dataset<U> { return this.map(transform); }

  filter(predicate: (x: T) => boolean): Dataset<T> {
    return this.derive(async function* (src) {
      for (let r = await src.next(); !r.done; r = await src.next()) {
        if (predicate(r.value)) yield r.value;
        else dispose(r.value);
      }
    }, null);
  }

  /** Groups `batchSize` elements into one (the last batch may be smaller unless smallLastBatch is false). */
  batch(batchSize: number, smallLastBatch = true): Dataset<unknown> {
    const n = intArg('batch: batchSize', batchSize, 1, 2 ** 30);
    const size = this.size === null ? null : smallLastBatch ? Math.ceil(this.size / n) : Math.floor(this.size / n);
    return this.derive(async function* (src) {
      let items: T[] = [];
      for (let r = await src.next(); !r.done; r = await src.next()) {
        items.push(r.value);
        if (items.length === n) {
          const group = items;
          yield tidy(() => collate(group) as never);
          dispose(group);
          items = [];
        }
      }
      if (items.length && smallLastBatch) {
        const group = items;
        yield tidy(() => collate(group) as never);
        dispose(group);
      } else dispose(items);
    }, size);
  }

  /** Elements drawn at random from a window of `bufferSize` (reshuffled on each pass unless told not to). */
  shuffle(bufferSize: number, seed?: string | number, reshuffleEachIteration = true): Dataset<T> {
    const window = intArg('shuffle: bufferSize', bufferSize, 1, 2 ** 30);
    const base = typeof seed === 'number' ? seed : seed === undefined ? Math.floor(Math.random() * 2 ** 32) : [...seed].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0, 2166136261);
    let pass = 0;
    return new Dataset<T>(() => {
      const src = this.make();
      const rand = mulberry32(base + (reshuffleEachIteration ? pass++ : 0));
      return (async function* () {
        const buffer: T[] = [];
        for (let r = await src.next(); !r.done; r = await src.next()) {
          buffer.push(r.value);
          if (buffer.length >= window) {
            const i = Math.floor(rand() * buffer.length);
            yield buffer.splice(i, 1)[0];
          }
        }
        while (buffer.length) yield buffer.splice(Math.floor(rand() * buffer.length), 1)[0];
      })();
    }, this.size);
  }

  take(count: number): Dataset<T> {
    const n = intArg('take: count', count, -1, 2 ** 53);
    return this.derive(async function* (src) {
      for (let i = 0; n < 0 || i < n; i++) {
        const r = await src.next();
        if (r.done) return;
        yield r.value;
      }
    }, this.size === null ? (n < 0 ? null : n) : n < 0 ? this.size : Math.min(n, this.size));
  }

  skip(count: number): Dataset<T> {
    const n = intArg('skip: count', count, 0, 2 ** 53);
    return this.derive(async function* (src) {
      for (let i = 0; ; i++) {
        const r = await src.next();
        if (r.done) return;
        if (i >= n) yield r.value;
        else dispose(r.value);
      }
    }, this.size === null ? null : Math.max(0, this.size - n));
  }

  /** The dataset `count` times over (forever without a count). */
  repeat(count?: number): Dataset<T> {
    const n = count === undefined ? Infinity : intArg('repeat: count', count, 0, 2 ** 30);
    const self = this;
    return new Dataset<T>(() => (async function* () {
      for (let i = 0; i < n; i++) yield* self;
    })(), this.size === null || n === Infinity ? null : this.size * n);
  }

  /** Accepted for TF.js compatibility; elements are produced on demand. */
  prefetch(_bufferSize: number): Dataset<T> { return this; }

  concatenate(other: Dataset<T>): Dataset<T> {
    const self = this;
    return new Dataset<T>(() => (async function* () { yield* self; yield* other; })(), this.size === null || other.size === null ? null : this.size + other.size);
  }

  async forEachAsync(f: (x: T) => void | Promise<void>): Promise<void> {
    for await (const x of this) await f(x);
  }

  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const x of this) out.push(x);
    return out;
  }
}

/** A dataset of an array's items. */
export function array<T>(items: T[]): Dataset<T> {
  if (!Array.isArray(items)) throw new Error(`data.array: expected an array, got ${describe(items)}`);
  return new Dataset<T>(() => (async function* () { yield* items; })(), items.length);
}

/** A dataset of a (possibly async) generator function's values. */
export function generator<T>(make: () => Iterator<T> | AsyncIterator<T>): Dataset<T> {
  if (typeof make !== 'function') throw new Error('data.generator: expected a generator function');
  return new Dataset<T>(() => {
    const it = make();
    return (async function* () {
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })();
  });
}

/** A dataset of f()'s results until it returns {done: true}. */
export function func<T>(f: () => IteratorResult<T> | Promise<IteratorResult<T>>): Dataset<T> {
  return new Dataset<T>(() => (async function* () {
    for (let r = await f(); !r.done; r = await f()) yield r.value;
  })());
}

/** Datasets side by side: each element is the array (or object) of theirs; ends with the shortest. */
export function zip(datasets: Dataset[] | Record<string, Dataset>): Dataset<unknown> {
  const entries = Array.isArray(datasets) ? datasets.map((d, i) => [String(i), d] as const) : Object.entries(datasets);
  return new Dataset<unknown>(() => {
    const its = entries.map(([, d]) => d[Symbol.asyncIterator]());
    return (async function* () {
      for (;;) {
        const rs = await Promise.all(its.map((it) => it.next()));
        if (rs.some((r) => r.done)) return;
        const values = rs.map((r) => r.value);
        yield Array.isArray(datasets) ? values : Object.fromEntries(entries.map(([k], i) => [k, values[i]]));
      }
    })();
  });
}

/** tf.data's datasets from values (the CSV and text ones read from sources: data_sources.ts). */
export const fromValues = { Dataset, array, generator, func, zip };
