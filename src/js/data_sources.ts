// tf.data's byte sources and the datasets read from them, as TF.js has them: FileDataSource
// (bytes, a Blob or a File) and URLDataSource (fetched, read as it arrives) give chunks of bytes;
// TextLineDataset decodes them as UTF-8 lines; CSVDataset parses those lines into rows (quoted
// fields, column configs, labels split into { xs, ys }). tf.data.csv(url) is a CSVDataset of a
// URLDataSource.
import { describe, intArg } from './args.js';
import { Dataset, fromValues } from './data.js';
import { responseChunks } from './io/stream.js';

type Chunks = AsyncIterator<Uint8Array>;

/** Where a TextLineDataset or CSVDataset reads its bytes (TF.js's DataSource). */
export abstract class DataSource {
  /** A fresh iterator over the bytes, in chunks. */
  abstract iterator(): Promise<Chunks>;
}

/** Bytes at hand (a Uint8Array, a Blob or a File), in chunks of `chunkSize` from `offset`. */
export class FileDataSource extends DataSource {
  private readonly chunkSize: number;
  private readonly offset: number;
  constructor(readonly input: Uint8Array | Blob, options: { chunkSize?: number; offset?: number } = {}) {
    super();
    const op = 'data.FileDataSource';
    if (typeof input === 'string') throw new Error(`${op}: a file path is read by TF.js in Node only; pass the bytes (a Uint8Array), a Blob or a File`);
    if (!(input instanceof Uint8Array) && !(typeof Blob !== 'undefined' && input instanceof Blob)) throw new Error(`${op}: expected a Uint8Array, a Blob or a File, got ${describe(input)}`);
    this.chunkSize = intArg(`${op}: chunkSize`, options.chunkSize ?? 1024 * 1024, 1, 2 ** 30);
    this.offset = intArg(`${op}: offset`, options.offset ?? 0, 0, 2 ** 53 - 1);
  }

  async iterator(): Promise<Chunks> {
    const bytes = this.input instanceof Uint8Array ? this.input : new Uint8Array(await (this.input as Blob).arrayBuffer());
    const { chunkSize, offset } = this;
    return (async function* () {
      for (let at = offset; at < bytes.length; at += chunkSize) yield bytes.subarray(at, Math.min(at + chunkSize, bytes.length));
    })();
  }
}

/** Bytes fetched from a URL (relative ones too), read as they arrive. */
export class URLDataSource extends DataSource {
  constructor(readonly url: string | Request, readonly fileOptions: RequestInit = {}) {
    super();
    if (typeof url !== 'string' && !(typeof Request !== 'undefined' && url instanceof Request)) throw new Error(`data.URLDataSource: expected a URL, got ${describe(url)}`);
  }

  async iterator(): Promise<Chunks> {
    const res = await fetch(this.url, this.fileOptions);
    if (!res.ok) throw new Error(`data.URLDataSource: fetching ${typeof this.url === 'string' ? this.url : this.url.url} failed (${res.status})`);
    return responseChunks(res);
  }
}

/** The lines of a source's UTF-8 text ("\n" or "\r\n" ends a line). */
export class TextLineDataset extends Dataset<string> {
  constructor(readonly input: DataSource) {
    if (!(input instanceof DataSource)) throw new Error(`data.TextLineDataset: expected a DataSource (FileDataSource, URLDataSource), got ${describe(input)}`);
    super(() => (async function* () {
      const decoder = new TextDecoder();
      const chunks = await input.iterator();
      let pending = '';
      for (let r = await chunks.next(); !r.done; r = await chunks.next()) {
        const lines = (pending + decoder.decode(r.value, { stream: true })).split('\n');
        pending = lines.pop()!;
        for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
      }
      pending += decoder.decode();
      if (pending) yield pending.endsWith('\r') ? pending.slice(0, -1) : pending;
    })());
  }
}

export interface ColumnConfig { required?: boolean; dtype?: 'float32' | 'int32' | 'bool' | 'string'; default?: unknown; isLabel?: boolean }
export interface CSVConfig { hasHeader?: boolean; columnNames?: string[]; columnConfigs?: Record<string, ColumnConfig>; configuredColumnsOnly?: boolean; delimiter?: string; delimWhitespace?: boolean }
const CSV_OPTIONS = ['hasHeader', 'columnNames', 'columnConfigs', 'configuredColumnsOnly', 'delimiter', 'delimWhitespace'];

/**
 * A line's fields: split at the delimiter outside double quotes; a quoted field's quotes are
 * dropped, and "" inside one is a quote. With delimWhitespace, runs of spaces are one delimiter.
 */
function fields(line: string, delimiter: string, whitespace: boolean): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (line[i + 1] === '"') { field += '"'; i++; } else quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === delimiter) {
      if (whitespace && field === '' && (out.length === 0 || line[i - 1] === ' ')) continue;
      out.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  if (!(whitespace && field === '' && line.endsWith(' '))) out.push(field);
  return out;
}

/** Rows of CSV from a source: objects of the columns, or { xs, ys } when some column is a label. */
export class CSVDataset extends Dataset<unknown> {
  private readonly config: CSVConfig;
  private readonly delimiter: string;

  constructor(readonly input: DataSource, csvConfig: CSVConfig = {}) {
    const op = 'data.csv';
    const config = csvConfig ?? {};
    const unknown = Object.keys(config).filter((k) => !CSV_OPTIONS.includes(k));
    if (unknown.length) throw new Error(`${op}: option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} not supported (supported: ${CSV_OPTIONS.join(', ')})`);
    if (config.delimWhitespace && config.delimiter !== undefined) throw new Error(`${op}: give delimiter or delimWhitespace, not both`);
    const delimiter = config.delimWhitespace ? ' ' : config.delimiter ?? ',';
    if (typeof delimiter !== 'string' || delimiter.length !== 1) throw new Error(`${op}: delimiter must be one character, got ${describe(delimiter)}`);
    const lines = new TextLineDataset(input);
    let self: CSVDataset | undefined;
    super(() => (async function* () {
      const names = await self!.columnNames();
      let first = true;
      for await (const line of lines) {
        if (first && (config.hasHeader ?? true)) { first = false; continue; }
        first = false;
        if (line === '') continue;
        yield self!.row(line, names);
      }
    })());
    self = this;
    this.config = config;
    this.delimiter = delimiter;
  }

  /** The column names: given, or the header line's, or column0, column1, ... */
  async columnNames(): Promise<string[]> {
    const op = 'data.csv';
    let names = this.config.columnNames;
    if (!names) {
      const it = new TextLineDataset(this.input)[Symbol.asyncIterator]();
      const first = await it.next();
      await it.return?.(undefined);
      if (first.done) throw new Error(`${op}: no data was found for CSV parsing`);
      const header = fields(first.value as string, this.delimiter, !!this.config.delimWhitespace);
      names = (this.config.hasHeader ?? true) ? header.map((h) => h.trim()) : header.map((_, i) => `column${i}`);
    }
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) throw new Error(`${op}: duplicate column name ${n}`);
      seen.add(n);
    }
    for (const key of Object.keys(this.config.columnConfigs ?? {})) {
      if (!seen.has(key)) throw new Error(`${op}: columnConfigs names "${key}", which is not a column (${names.join(', ')})`);
    }
    return names;
  }

  private row(line: string, names: string[]): unknown {
    const values = fields(line, this.delimiter, !!this.config.delimWhitespace);
    if (values.length !== names.length) throw new Error(`data.csv: a line has ${values.length} fields for ${names.length} columns: ${line.slice(0, 80)}`);
    const xs: Record<string, unknown> = {}, ys: Record<string, unknown> = {};
    names.forEach((name, i) => {
      const config = this.config.columnConfigs?.[name];
      if (this.config.configuredColumnsOnly && !config) return;
      (config?.isLabel ? ys : xs)[name] = parse(values[i], name, line, config);
    });
    return Object.keys(ys).length ? { xs, ys } : xs;
  }
}

/** A field's value as TF.js's CSV reader gives it. */
function parse(value: string, name: string, line: string, config: ColumnConfig | undefined): unknown {
  if (value === '') {
    if (config?.default !== undefined) return config.default;
    if (config?.required || config?.isLabel) throw new Error(`data.csv: required column ${name} is empty in the line: ${line.slice(0, 80)}`);
    return undefined;
  }
  const bool = () => (value === '1' || value.toLowerCase() === 'true' ? 1 : 0);
  const number = Number(value);
  if (Number.isNaN(number)) return config?.dtype === 'bool' ? bool() : value;
  switch (config?.dtype) {
    case 'int32': return Math.floor(number);
    case 'bool': return bool();
    default: return number;
  }
}

/** TF.js's tf.data.csv: a CSVDataset of the URL's text (or of CSV text given directly, when it has a line break). */
export function csv(source: string | Request, csvConfig: CSVConfig = {}): CSVDataset {
  const input = typeof source === 'string' && source.includes('\n') ? new FileDataSource(new TextEncoder().encode(source)) : new URLDataSource(source);
  return new CSVDataset(input, csvConfig);
}

/** tf.data. */
export const data = { ...fromValues, csv, FileDataSource, URLDataSource, TextLineDataset, CSVDataset };
