// Zip archives (.keras files) read defensively: fflate inflates, and around it each entry is
// checked before anything is allocated for it (encryption flag, a size cap the caller sets from
// what it expects) and after (its length and CRC-32 against the central directory). fflate
// checks neither CRC nor flags, so a corrupted or encrypted entry would otherwise load as data.
// fflate's unzipSync and the crc package's crc32 are passed in by the caller, which loads them
// on first use (pages that never read a zip never download them, nor need an import map entry).
type Crc32 = (data: Uint8Array) => number;

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL_ENTRY = 0x02014b50;
// General-purpose flag bits (APPNOTE 4.4.4): 0 = encrypted, 6 = strong encryption.
const ENCRYPTED = 0x01 | 0x40;

interface CentralEntry {
  flags: number;
  crc: number;
}

/** The central directory's flags and CRC of each entry, by name. */
function centralDirectory(bytes: Uint8Array, op: string): Map<string, CentralEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end record is the last 22 bytes plus a comment of at most 65535.
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === EOCD) { end = i; break; }
  }
  if (end < 0) throw new Error(`${op}: not a zip archive (no end-of-central-directory record)`);
  let count = view.getUint16(end + 10, true);
  let offset = view.getUint32(end + 16, true);
  if ((count === 0xffff || offset === 0xffffffff) && end >= 20 && view.getUint32(end - 20, true) === ZIP64_LOCATOR) {
    const z64 = Number(view.getBigUint64(end - 12, true));
    if (z64 + 56 > bytes.length) throw new Error(`${op}: the zip64 end record lies outside the file`);
    count = Number(view.getBigUint64(z64 + 32, true));
    offset = Number(view.getBigUint64(z64 + 48, true));
  }
  const out = new Map<string, CentralEntry>();
  for (let i = 0, p = offset; i < count; i++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL_ENTRY) throw new Error(`${op}: the zip central directory is damaged (entry ${i})`);
    const nameLength = view.getUint16(p + 28, true);
    const next = p + 46 + nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
    if (next > bytes.length) throw new Error(`${op}: the zip central directory is damaged (entry ${i})`);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLength));
    out.set(name, { flags: view.getUint16(p + 8, true), crc: view.getUint32(p + 16, true) });
    p = next;
  }
  return out;
}

/**
 * Inflates the entries `limit` gives a cap for (its name and declared size -> the most bytes it
 * may inflate to, or undefined to skip it), refusing before inflation an encrypted entry or one
 * over its cap, and after it one whose length or CRC-32 differs from what the archive declares.
 */
export function unzipChecked(
  { unzipSync, crc32 }: { unzipSync: typeof import('fflate').unzipSync; crc32: Crc32 },
  bytes: Uint8Array,
  op: string,
  limit: (name: string, declaredSize: number) => number | undefined,
): Record<string, Uint8Array> {
  const directory = centralDirectory(bytes, op);
  const declared = new Map<string, number>();
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (f) => {
        const cap = limit(f.name, f.originalSize);
        if (cap === undefined) return false;
        const entry = directory.get(f.name);
        if (!entry) throw new Error(`${op}: ${f.name} is missing from the zip central directory`);
        if (entry.flags & ENCRYPTED) throw new Error(`${op}: ${f.name} is encrypted; encrypted archives are not supported`);
        if (f.originalSize > cap) throw new Error(`${op}: ${f.name} declares ${f.originalSize} bytes inflated, over the limit of ${cap}`);
        declared.set(f.name, f.originalSize);
        return true;
      },
    });
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith(op) ? msg : `${op}: not a readable zip archive: ${msg}`);
  }
  for (const [name, data] of Object.entries(files)) {
    if (data.length !== declared.get(name)) throw new Error(`${op}: ${name} inflated to ${data.length} bytes but the archive declares ${declared.get(name)}`);
    const want = directory.get(name)!.crc;
    const got = crc32(data) >>> 0;
    if (got !== want) throw new Error(`${op}: ${name} fails its CRC-32 check (0x${got.toString(16)}, the archive says 0x${want.toString(16)}): the file is damaged`);
  }
  return files;
}
