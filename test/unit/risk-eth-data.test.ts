import { beforeAll, describe, expect, it } from 'vitest';
import { defaultBtcDailyCandles, defaultEthCandles } from '../../src/backtest/candles.js';
import {
  alignReturns,
  backtestEwmaVar,
  closePrices,
  correlationMatrix,
  ewmaVolatility,
  fitGarch11,
  garch11LogLikelihood,
  lambdaForInterval,
  logReturnSeries,
  parametricVar,
  sampleOnGrid,
  type PricePoint,
} from '../../src/core/risk/index.js';

/**
 * The risk models on the shipped Binance ETH/USDT hourly data (2017-08 to 2021-06). The data
 * is fixed, so these are regression values (computed once, checked for plausibility: ETH's
 * realised vol in this period is ~110% a year); tolerances cover optimiser noise only.
 */
describe('risk figures of the shipped ETH data', () => {
  let closes: PricePoint[];
  let r: number[];
  let lastPrice: number;
  beforeAll(async () => {
    const eth = await defaultEthCandles();
    closes = closePrices(eth.candles, 3600);
    // Returns across the 8 gaps span several hours: dropped rather than mistaken for shocks.
    r = logReturnSeries(closes, { maxStepSec: 3600 }).map((p) => p.r);
    lastPrice = eth.candles.at(-1)!.close;
  });

  it('33,404 one-hour returns; sample vol ~111% a year', () => {
    expect(r).toHaveLength(33_413 - 1 - 8);
    const vol = Math.sqrt(r.reduce((s, x) => s + x * x, 0) / r.length) * Math.sqrt(8760);
    expect(vol).toBeCloseTo(1.1088, 3);
  });

  it('EWMA with the daily half-life (lambda 0.94^(1/24)): 162% annualised at the end (after the May 2021 crash)', () => {
    const res = ewmaVolatility(r, { lambda: lambdaForInterval(3600), intervalSec: 3600 });
    expect(res.volAnnual).toBeCloseTo(1.6195, 3);
  });

  it('GARCH(1,1): alpha ~0.0775, beta ~0.915, long-run vol ~136% a year', () => {
    const fit = fitGarch11(r, { intervalSec: 3600 });
    expect(fit.converged).toBe(true);
    expect(fit.alpha).toBeCloseTo(0.0775, 3);
    expect(fit.beta).toBeCloseTo(0.9147, 3);
    expect(fit.persistence).toBeLessThan(1);
    expect(fit.longRunVolAnnual).toBeGreaterThan(1.2);
    expect(fit.longRunVolAnnual).toBeLessThan(1.5);
    expect(fit.logLikelihood).toBeGreaterThan(garch11LogLikelihood(r, { ...fit, beta: fit.beta - 0.005 }));
    expect(fit.logLikelihood).toBeGreaterThan(garch11LogLikelihood(r, { ...fit, alpha: fit.alpha + 0.005, beta: fit.beta - 0.005 }));
  });

  it('1-day 99% VaR of 1 ETH at the last price ($2,620.87): ~$517 with the EWMA vol', () => {
    const { lastVol } = ewmaVolatility(r, { lambda: lambdaForInterval(3600) });
    const res = parametricVar({ deltaUsd: lastPrice, volPerPeriod: lastVol, confidence: 0.99, horizonPeriods: 24 });
    expect(lastPrice).toBe(2620.87);
    expect(res.varUsd).toBeCloseTo(516.83, 1);
  });

  it('rolling EWMA 99% VaR is rejected by Kupiec: hourly returns are fat-tailed (1.8% exceedances)', () => {
    const res = backtestEwmaVar({ returns: r, confidence: 0.99, ewma: { lambda: lambdaForInterval(3600) }, warmup: 500 });
    expect(res.observations).toBe(r.length - 500);
    expect(res.exceedances).toBe(606);
    expect(res.kupiec.rejectedAt5pct).toBe(true);
    expect(res.kupiec.lr).toBeCloseTo(188.6, 1);
  });

  it('daily ETH and BTC returns are ~0.77 correlated', async () => {
    const btc = await defaultBtcDailyCandles();
    const ethDaily = logReturnSeries(sampleOnGrid(closes, 86_400), { maxStepSec: 86_400 });
    const btcDaily = logReturnSeries(closePrices(btc.candles, 86_400), { maxStepSec: 86_400 });
    const aligned = alignReturns([ethDaily, btcDaily]);
    expect(aligned.timesSec.length).toBe(1390);
    expect(correlationMatrix(aligned.columns)[0]![1]).toBeCloseTo(0.7728, 3);
  });
});
