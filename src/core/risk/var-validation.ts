import { christoffersenIndependence } from './christoffersen.js';
import type { TailSide } from './fhs.js';
import { kupiecPof } from './kupiec.js';
import type { VarModelSpec } from './var-models.js';

/**
 * Rolling out-of-sample validation of one-step VaR models on one return series: each model
 * sees the returns one at a time, forecasts before each, and is scored on its exceptions with
 * Kupiec's POF test (the rate) and Christoffersen's independence test (the clustering).
 */

export interface VarValidationOptions {
  /** Sampling interval of the returns, seconds (sets the EWMA decay per period). */
  periodSec: number;
  levels?: readonly number[];
  /** Returns used only to warm the models up (not scored), the same for every model. Default 250. */
  warmup?: number;
  /** Loss side: 'lower' for a long position (default), 'upper' for a short. */
  side?: TailSide;
  /** Significance of both tests. Default 0.05. */
  significance?: number;
}

export interface VarValidationRow {
  model: string;
  level: number;
  observations: number;
  exceptions: number;
  kupiecP: number;
  christoffersenP: number;
  /** Both p-values at least the significance level. */
  pass: boolean;
}

export function validateVarModels(returns: readonly number[], specs: readonly VarModelSpec[], opts: VarValidationOptions): VarValidationRow[] {
  const levels = opts.levels ?? [0.95, 0.99];
  const warmup = opts.warmup ?? 250;
  const side = opts.side ?? 'lower';
  const significance = opts.significance ?? 0.05;
  if (returns.length <= warmup + 1) throw new RangeError(`validateVarModels: ${returns.length} returns leave nothing to score after a warm-up of ${warmup}`);
  const rows: VarValidationRow[] = [];
  for (const spec of specs) {
    const model = spec.create(opts.periodSec);
    const hits = levels.map(() => new Array<boolean>(returns.length - warmup));
    for (let i = 0; i < returns.length; i++) {
      const r = returns[i]!;
      if (i >= warmup) {
        for (let k = 0; k < levels.length; k++) {
          const f = model.forecast(levels[k]!, side);
          if (f === undefined) throw new RangeError(`validateVarModels: model ${spec.name} has no forecast after ${i} returns (warm-up ${warmup} too short)`);
          hits[k]![i - warmup] = side === 'lower' ? r < -f.varReturn : r > f.varReturn;
        }
      }
      model.observe(r);
    }
    levels.forEach((level, k) => {
      const h = hits[k]!;
      const exceptions = h.reduce((n, x) => n + (x ? 1 : 0), 0);
      const kupiecP = kupiecPof({ exceedances: exceptions, observations: h.length, expectedRate: 1 - level }).pValue;
      const christoffersenP = christoffersenIndependence(h).pValue;
      rows.push({ model: spec.name, level, observations: h.length, exceptions, kupiecP, christoffersenP, pass: kupiecP >= significance && christoffersenP >= significance });
    });
  }
  return rows;
}
