// A model file given as a URL or as its bytes.

/** The bytes of `source`: fetched when it is a URL, else viewed as a Uint8Array. */
export async function bytesFrom(source: string | ArrayBuffer | Uint8Array, op: string): Promise<Uint8Array> {
  if (typeof source !== 'string') return source instanceof Uint8Array ? source : new Uint8Array(source);
  const res = await fetch(source);
  if (!res.ok) throw new Error(`${op}: fetching ${source} failed (${res.status} ${res.statusText})`);
  return new Uint8Array(await res.arrayBuffer());
}
