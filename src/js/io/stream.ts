// Weights streamed into tensors: bytes go from the network (or any byte stream) into each tensor's
// storage as they arrive. On WebGPU each chunk is written to the device buffer with
// queue.writeBuffer and never enters the wasm heap, so a model's weights may be far larger than
// wasm32's memory; the JS side holds one chunk at a time, never the whole file.
import type { Tensor } from '../tensor.js';

/** The chunks of a fetch Response's body, as they arrive. */
export async function* responseChunks(res: Response): AsyncGenerator<Uint8Array> {
  if (!res.body) {
    yield new Uint8Array(await res.arrayBuffer());
    return;
  }
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value?.byteLength) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Fills `targets` in order from `chunks` (their bytes concatenated, as in a TF.js weights
 * manifest). Throws, naming `op`, when the stream holds more or fewer bytes than the targets.
 * Returns the number of bytes written.
 */
export async function streamInto(targets: Tensor[], chunks: AsyncIterable<Uint8Array>, op: string): Promise<number> {
  let index = 0; // the tensor being filled
  let offset = 0; // bytes of it written so far
  let carry = new Uint8Array(0); // < 4 bytes left over by a chunk that split a word
  let written = 0;
  const skipEmpty = () => {
    while (index < targets.length && targets[index].sizeBytes === 0) index++;
  };
  skipEmpty();
  for await (const chunk of chunks) {
    let buf = chunk;
    if (carry.length) {
      buf = new Uint8Array(carry.length + chunk.length);
      buf.set(carry);
      buf.set(chunk, carry.length);
      carry = new Uint8Array(0);
    }
    let pos = 0;
    while (pos < buf.length) {
      if (index >= targets.length) throw new Error(`${op}: the weight data holds more bytes than the weight specs declare (${written + buf.length - pos} extra at least)`);
      const t = targets[index];
      const room = t.sizeBytes - offset;
      let take = Math.min(room, buf.length - pos);
      // writeBuffer takes whole 4-byte words: a word split across chunks waits for the next one.
      if (take < room) take -= take % 4;
      if (take === 0) {
        carry = buf.slice(pos);
        break;
      }
      t.handle.writeBytes(offset, buf.subarray(pos, pos + take));
      offset += take;
      pos += take;
      written += take;
      if (offset === t.sizeBytes) {
        index++;
        offset = 0;
        skipEmpty();
      }
    }
  }
  if (index < targets.length || carry.length) {
    const need = targets.reduce((n, t) => n + t.sizeBytes, 0);
    throw new Error(`${op}: the weight specs need ${need} bytes but the weight data has ${written + carry.length}`);
  }
  return written;
}

/** Sequential reads over a byte stream: skip ahead, or take the next n bytes as chunks. */
export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  /** Bytes consumed so far. */
  position = 0;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.it = chunks[Symbol.asyncIterator]();
  }

  private async next(): Promise<boolean> {
    if (this.pending.length) return true;
    const r = await this.it.next();
    if (r.done) return false;
    this.pending = r.value;
    return true;
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n));
  }

  /** The next `n` bytes, chunk by chunk; throws if the stream ends first. */
  async *take(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (!(await this.next())) throw new Error(`the stream ended ${left} bytes early (at byte ${this.position})`);
      const part = this.pending.subarray(0, Math.min(left, this.pending.length));
      this.pending = this.pending.subarray(part.length);
      this.position += part.length;
      left -= part.length;
      yield part;
    }
  }
}
