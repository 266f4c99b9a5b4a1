import { VAR_MODELS } from '../core/risk/var-models.js';
import { validateVarModels, type VarValidationRow } from '../core/risk/var-validation.js';
import { DAY_SEC, dailyReturns, intervalLabel, intervalReturns, loadCandleFiles, type ReturnSeries } from './series.js';

/**
 * `keeper risk validate`: rolling out-of-sample one-step VaR of every shipped model (see
 * VAR_MODELS) at 95% and 99%, on returns at the file's interval and on daily returns built from
 * them, scored with Kupiec's POF and Christoffersen's independence tests. Default data: the
 * shipped ETH/USDT and BTC/USDT hourly files. Exit code 0 when the default model passes every
 * row, 1 otherwise, so the command can gate a change of model.
 */

export interface ValidateCommandOptions {
  /** Candle CSVs; default the shipped ETH and BTC hourly files. */
  data?: string[];
  json?: boolean;
  stdout?: { write(s: string): unknown };
}

export interface ValidationTableRow extends VarValidationRow {
  data: string;
  default: boolean;
  horizon: string;
}

/** Returns scored after this many warm-up returns, the same for every model and horizon. */
export const VALIDATION_WARMUP = 250;

export function validateSeries(series: ReturnSeries): ValidationTableRow[] {
  const horizon = series.horizon === '1d' ? '1d' : intervalLabel(series.periodSec);
  return validateVarModels(series.returns, VAR_MODELS, { periodSec: series.periodSec, warmup: VALIDATION_WARMUP }).map((row) => ({
    data: series.data,
    horizon,
    default: VAR_MODELS.find((m) => m.name === row.model)!.isDefault,
    ...row,
  }));
}

export async function validationTable(files: readonly string[] = []): Promise<ValidationTableRow[]> {
  const sets = await loadCandleFiles(files);
  const rows: ValidationTableRow[] = [];
  for (const set of sets) {
    rows.push(...validateSeries(intervalReturns(set)));
    if (set.intervalSec < DAY_SEC) rows.push(...validateSeries(dailyReturns(set)));
  }
  return rows;
}

function formatTable(rows: readonly ValidationTableRow[]): string {
  const head = ['data', 'model', 'default', 'horizon', 'level', 'observations', 'exceptions', 'expected', 'kupiecP', 'christoffersenP', 'pass'];
  const body = rows.map((r) => [
    r.data,
    r.model,
    r.default ? 'yes' : '',
    r.horizon,
    `${Math.round(r.level * 100)}%`,
    String(r.observations),
    String(r.exceptions),
    (r.observations * (1 - r.level)).toFixed(1),
    r.kupiecP.toFixed(4),
    r.christoffersenP.toFixed(4),
    r.pass ? 'pass' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export async function validateCommand(o: ValidateCommandOptions): Promise<number> {
  const out = o.stdout ?? process.stdout;
  const rows = await validationTable(o.data ?? []);
  if (o.json) {
    out.write(`${JSON.stringify({ rows: rows.map(({ data, model, default: isDefault, horizon, level, observations, exceptions, kupiecP, christoffersenP, pass }) => ({ data, model, default: isDefault, horizon, level, observations, exceptions, kupiecP, christoffersenP, pass })) })}\n`);
  } else {
    out.write(`${formatTable(rows)}\n`);
    out.write(`one-step VaR of a long position, scored after a ${VALIDATION_WARMUP}-return warm-up; pass = Kupiec and Christoffersen p >= 0.05\n`);
  }
  return rows.every((r) => !r.default || r.pass) ? 0 : 1;
}
