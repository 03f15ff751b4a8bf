// The registry of variables, for optimizers that minimise over "all trainable variables".
import { Variable } from './tensor.js';

const all = new Set<WeakRef<Variable>>();

export function registerVariable(v: Variable): void {
  all.add(new WeakRef(v));
}

export function trainableVariables(): Variable[] {
  const out: Variable[] = [];
  for (const r of all) {
    const v = r.deref();
    if (!v || v.isDisposed) all.delete(r);
    else if (v.trainable) out.push(v);
  }
  return out;
}

/** Every live variable, trainable or not. */
export function allVariables(): Variable[] {
  const out: Variable[] = [];
  for (const r of all) {
    const v = r.deref();
    if (!v || v.isDisposed) all.delete(r);
    else out.push(v);
  }
  return out;
}
