import { fitGarch11 } from '../core/risk/garch.js';
import { dailyReturns, intervalReturns, loadCandleFiles } from './series.js';

/**
 * `keeper risk garch`: the textbook GARCH(1,1) fit (fGarch's) of percent log returns, at the
 * file's interval or (--daily) of the UTC day's last close.
 */

export interface GarchCommandOptions {
  /** Candle CSV; default the shipped ETH/USDT hourly file. */
  data?: string;
  daily?: boolean;
  json?: boolean;
  stdout?: { write(s: string): unknown };
}

export interface GarchReport {
  mu: number;
  omega: number;
  alpha1: number;
  beta1: number;
  llh: number;
  observations: number;
}

export async function garchReport(o: Pick<GarchCommandOptions, 'data' | 'daily'>): Promise<GarchReport & { data: string; horizon: string }> {
  const [set] = await loadCandleFiles(o.data === undefined ? [] : [o.data]);
  const series = o.daily ? dailyReturns(set!) : intervalReturns(set!);
  const fit = fitGarch11(series.returns.map((r) => 100 * r));
  if (!fit.converged) throw new Error(`risk garch: the fit of ${series.data} did not converge (gradient not small after the polish)`);
  return { data: series.data, horizon: o.daily ? '1d' : 'interval', mu: fit.mu, omega: fit.omega, alpha1: fit.alpha, beta1: fit.beta, llh: fit.logLikelihood, observations: fit.n };
}

export async function garchCommand(o: GarchCommandOptions): Promise<number> {
  const out = o.stdout ?? process.stdout;
  const r = await garchReport(o);
  if (o.json) {
    const { mu, omega, alpha1, beta1, llh, observations } = r;
    out.write(`${JSON.stringify({ mu, omega, alpha1, beta1, llh, observations })}\n`);
    return 0;
  }
  const what = o.daily ? 'daily (UTC day last close)' : 'per-candle';
  out.write(`GARCH(1,1), normal, ${what} log returns in percent of ${r.data}: ${r.observations} observations\n`);
  out.write(`  mu      ${r.mu.toPrecision(7)}\n  omega   ${r.omega.toPrecision(7)}\n  alpha1  ${r.alpha1.toPrecision(7)}\n  beta1   ${r.beta1.toPrecision(7)}\n`);
  out.write(`  log-likelihood ${r.llh.toFixed(4)}  persistence ${(r.alpha1 + r.beta1).toFixed(4)}\n`);
  return 0;
}
