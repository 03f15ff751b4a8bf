// fit() callbacks: plain objects of hooks (TF.js CustomCallbackArgs) and tf.callbacks.earlyStopping.
export type Logs = Record<string, number>;

export interface CallbackHooks {
  onTrainBegin?: (logs?: Logs) => void | Promise<void>;
  onTrainEnd?: (logs?: Logs) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: Logs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs?: Logs) => void | Promise<void>;
  /** @internal set by fit for callbacks that stop training */
  setModel?: (model: { stopTraining: boolean }) => void;
}

export class EarlyStopping implements CallbackHooks {
  private best = Infinity;
  private wait = 0;
  private model?: { stopTraining: boolean };
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';

  constructor(args: { monitor?: string; minDelta?: number; patience?: number; mode?: 'min' | 'max' | 'auto' } = {}) {
    this.monitor = args.monitor ?? 'val_loss';
    this.minDelta = Math.abs(args.minDelta ?? 0);
    this.patience = args.patience ?? 0;
    this.mode = args.mode === 'max' || (args.mode !== 'min' && /acc/.test(this.monitor)) ? 'max' : 'min';
    if (this.mode === 'max') this.best = -Infinity;
  }

  setModel(model: { stopTraining: boolean }): void {
    this.model = model;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  onEpochEnd(_epoch: number, logs: Logs = {}): void {
    const v = logs[this.monitor];
    if (v === undefined) {
      console.warn(`EarlyStopping: metric '${this.monitor}' is not in the logs (${Object.keys(logs).join(', ')})`);
      return;
    }
    const improved = this.mode === 'min' ? v < this.best - this.minDelta : v > this.best + this.minDelta;
    if (improved) {
      this.best = v;
      this.wait = 0;
    } else if (++this.wait >= this.patience && this.model) {
      // (TF.js: after `patience` epochs without improvement; patience 0 stops at the first)
      this.model.stopTraining = true;
    }
  }
}

export const callbacks = {
  earlyStopping: (args?: ConstructorParameters<typeof EarlyStopping>[0]) => new EarlyStopping(args),
};

export function normalizeCallbacks(cb: CallbackHooks | CallbackHooks[] | undefined): CallbackHooks[] {
  if (!cb) return [];
  return Array.isArray(cb) ? cb : [cb];
}
