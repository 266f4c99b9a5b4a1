import { describe, expect, it } from 'vitest';
import { defaultEthCandles } from '../../src/backtest/candles.js';
import { dailyLastCloses, fitGarch11, garch11LogLikelihood, logReturnSeries } from '../../src/core/risk/index.js';
import { garchCommand } from '../../src/risk/garch-command.js';

/**
 * GARCH(1,1) as the textbook fits it, against R's fGarch 4022.89 on the same series:
 *   garchFit(~garch(1,1), data = r, include.mean = TRUE, cond.dist = "norm")
 * with r = 100 * diff(log(close)) of the UTC day's last hourly close of the shipped ETH/USDT
 * file (1,392 returns; the file's last day holds only its 00:00 candle and is not a close).
 */
const FGARCH = { mu: 0.1566966, omega: 1.787637, alpha1: 0.09668909, beta1: 0.8527688, llh: -4299.7551 };

describe('GARCH(1,1) on ETH daily percent log returns matches fGarch', () => {
  it('risk garch --daily --json: each figure within 1e-4 relative of fGarch', async () => {
    let text = '';
    const code = await garchCommand({ daily: true, json: true, stdout: { write: (s: string) => (text += s) } });
    expect(code).toBe(0);
    const out = JSON.parse(text) as Record<string, number>;
    expect(Object.keys(out)).toEqual(['mu', 'omega', 'alpha1', 'beta1', 'llh', 'observations']);
    expect(out['observations']).toBe(1392);
    for (const [k, ref] of Object.entries(FGARCH)) expect(Math.abs(out[k]! / ref - 1), k).toBeLessThan(1e-4);
  });

  it("the likelihood at fGarch's own parameters is the same function (same start, same constant)", async () => {
    const eth = await defaultEthCandles();
    const r = logReturnSeries(dailyLastCloses(eth.candles, 3600), { maxStepSec: 86_400 }).map((p) => 100 * p.r);
    expect(r).toHaveLength(1392);
    const atFgarch = garch11LogLikelihood(r, { mu: FGARCH.mu, omega: FGARCH.omega, alpha: FGARCH.alpha1, beta: FGARCH.beta1 });
    expect(atFgarch).toBeCloseTo(FGARCH.llh, 3);
    // The full fit is at least as high as fGarch's, and as a fit with mu fixed at the sample mean.
    const fit = fitGarch11(r);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(atFgarch - 1e-9);
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    const fixedMean = fitGarch11(r.map((x) => x - mean), { includeMean: false });
    expect(fit.logLikelihood).toBeGreaterThan(fixedMean.logLikelihood);
  });
});
