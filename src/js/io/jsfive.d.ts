// The parts of jsfive (a pure-JS HDF5 reader) that the Keras loader uses.
declare module 'jsfive' {
  export class Dataset {
    readonly value: ArrayLike<number>;
    readonly shape: number[];
    readonly dtype: string;
    readonly attrs: Record<string, unknown>;
  }
  export class Group {
    readonly keys: string[];
    readonly attrs: Record<string, unknown>;
    get(path: string): Group | Dataset | null;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename: string);
  }
}
