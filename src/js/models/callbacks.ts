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

/** TF.js's Callback base class: every hook does nothing until a subclass overrides it. */
export class Callback implements CallbackHooks {
  model?: { stopTraining: boolean };
  setModel(model: { stopTraining: boolean }): void { this.model = model; }
  async onTrainBegin(_logs?: Logs): Promise<void> {}
  async onTrainEnd(_logs?: Logs): Promise<void> {}
  async onEpochBegin(_epoch: number, _logs?: Logs): Promise<void> {}
  async onEpochEnd(_epoch: number, _logs?: Logs): Promise<void> {}
  async onBatchBegin(_batch: number, _logs?: Logs): Promise<void> {}
  async onBatchEnd(_batch: number, _logs?: Logs): Promise<void> {}
}

/** A Callback from an object of hooks (TF.js CustomCallback). */
export class CustomCallback extends Callback {
  constructor(hooks: Omit<CallbackHooks, 'setModel'>) {
    super();
    for (const k of ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'] as const) {
      const f = hooks?.[k];
      if (f !== undefined && typeof f !== 'function') throw new Error(`CustomCallback: ${k} must be a function`);
      if (f) (this as Record<string, unknown>)[k] = f;
    }
  }
}

/** Several callbacks called in order (TF.js CallbackList). */
export class CallbackList extends Callback {
  readonly callbacks: CallbackHooks[];
  constructor(callbacks: CallbackHooks[] = []) {
    super();
    this.callbacks = [...callbacks];
  }
  append(cb: CallbackHooks): void { this.callbacks.push(cb); }
  setModel(model: { stopTraining: boolean }): void { super.setModel(model); this.callbacks.forEach((c) => c.setModel?.(model)); }
  async onTrainBegin(logs?: Logs) { for (const c of this.callbacks) await c.onTrainBegin?.(logs); }
  async onTrainEnd(logs?: Logs) { for (const c of this.callbacks) await c.onTrainEnd?.(logs); }
  async onEpochBegin(epoch: number, logs?: Logs) { for (const c of this.callbacks) await c.onEpochBegin?.(epoch, logs); }
  async onEpochEnd(epoch: number, logs?: Logs) { for (const c of this.callbacks) await c.onEpochEnd?.(epoch, logs); }
  async onBatchBegin(batch: number, logs?: Logs) { for (const c of this.callbacks) await c.onBatchBegin?.(batch, logs); }
  async onBatchEnd(batch: number, logs?: Logs) { for (const c of this.callbacks) await c.onBatchEnd?.(batch, logs); }
}
