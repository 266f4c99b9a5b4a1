import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { backtestCommand } from '../../src/backtest/command.js';
import { parseRange, scenarioFromOptions } from '../../src/backtest/cli-command.js';

const run = promisify(execFile);

function capture(): { write: (s: string) => boolean; text: () => string } {
  const parts: string[] = [];
  return { write: (s: string) => parts.push(s) > 0, text: () => parts.join('') };
}

describe('keeper backtest: the scenario example of the README, on a slice of the ETH data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'backtest-scenario-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the real command line writes backtest.json with policies[].metrics and per-episode statistics', async () => {
    const args = ['bin/keeper.mjs', '--env-file', join(dir, 'none.env'), 'backtest', '--data', 'src/backtest/data/ethusdt-1h.csv.gz', '--substeps', 'close',
      '--lp-usd', '1000000', '--range', '0.666667:1.5', '--recenter', 'off', '--episode-days', '30', '--fee-bps', '5', '--slippage-bps', '0',
      '--cost-per-trade-usd', '2', '--funding-apr', '0', '--policies', 'time-1h,time-4h,time-24h,default', '--out', dir, '--from', '28000', '--count', '2200'];
    writeFileSync(join(dir, 'none.env'), '');
    const { stdout } = await run(process.execPath, args, { timeout: 120_000 });
    expect(stdout).toMatch(/^policy +cost \$ +std \$\/close +effectiveness/);
    const json = JSON.parse(readFileSync(join(dir, 'backtest.json'), 'utf8'));
    expect(json.policies.map((p: { name: string }) => p.name)).toEqual(['time-1h', 'time-4h', 'time-24h', 'default', 'unhedged', 'static']);
    expect(json.scenario).toMatchObject({
      lp: { valueUsd: 1_000_000, low: 0.666667, high: 1.5, recenter: 'off' }, episodeDays: 30, perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0 },
      slippageBps: 0, tx: { costPerTradeUsd: 2 },
    });
    expect(json.substeps).toBe('close');
    expect(json.market.episodes).toBe(3); // 2,200 hours: three whole 30-day episodes
    for (const p of json.policies) {
      expect(Object.keys(p.metrics)).toEqual(expect.arrayContaining(['costUsd', 'trades', 'perCloseStdUsd', 'episodes', 'attribution', 'perYear', 'hedgeEffectiveness']));
      expect(Object.keys(p.metrics.episodes)).toEqual(expect.arrayContaining(['count', 'meanCostUsd', 'stdPnlUsd', 'worstPnlUsd', 'tradesPerEpisode']));
      expect(p.metrics.episodes.count).toBe(3);
    }
    const byName = Object.fromEntries(json.policies.map((p: { name: string; metrics: { trades: number; costUsd: number } }) => [p.name, p.metrics]));
    // Hourly trades about every close, 4-hourly and daily ever less; the unhedged baseline never.
    expect(byName['time-1h'].trades).toBeGreaterThan(byName['time-4h'].trades);
    expect(byName['time-4h'].trades).toBeGreaterThan(byName['time-24h'].trades);
    expect(byName['unhedged']).toMatchObject({ trades: 0, costUsd: 0 });
    // $2 per transaction, no gas model: every cost is fees + $2 per trade or top-up.
    const t1 = json.policies[0].metrics;
    expect(t1.costs.gasUsd).toBeCloseTo(2 * (t1.trades + t1.topUps), 6);
    expect(readFileSync(join(dir, 'backtest.html'), 'utf8')).toContain('id="episodes"');
  }, 150_000);
});

describe('backtest options', () => {
  it('--range LOW:HIGH (asymmetric allowed), and what each option sets', () => {
    expect(parseRange('0.666667:1.5')).toEqual({ low: 0.666667, high: 1.5 });
    for (const bad of ['1.5:0.6', '0:2', '0.5', '0.9:1', 'a:b']) expect(() => parseRange(bad)).toThrow(/--range expects LOW:HIGH/);
    expect(scenarioFromOptions({ lpUsd: 1e6, range: { low: 0.5, high: 3 }, recenter: 'off', episodeDays: 30, feeBps: 5, slippageBps: 0, costPerTradeUsd: 2, fundingApr: 0 })).toEqual({
      slippageBps: 0, episodeDays: 30, lp: { valueUsd: 1e6, recenter: 'off', low: 0.5, high: 3 }, perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0 }, tx: { costPerTradeUsd: 2 },
    });
    expect(scenarioFromOptions({ lpWidthPct: 20 }).lp).toEqual({ low: 0.8, high: 1.2 });
  });
});

describe('backtestCommand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'backtest-cmd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('simulated jump path: writes backtest.json and backtest.html, prints the table, quiet progress off a terminal', async () => {
    const out = capture();
    const err = capture();
    const code = await backtestCommand({ simulate: { model: 'jump', seed: 3, steps: 120 }, out: dir, policies: ['ww', 'time-2h'], stdout: out, stderr: err, workers: 0 });
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'backtest.json'), 'utf8'));
    expect(json.source).toBe('simulated jump seed 3');
    expect(json.market.closes).toBe(121);
    expect(json.policies.map((p: { name: string }) => p.name)).toEqual(['ww', 'time-2h', 'unhedged', 'static']);
    expect(json.policies[1].policy.band.rebalancePeriodSec).toBe(7200);
    expect(json.policies[0].series.timeSec).toHaveLength(121);
    expect(json.policies[0].metrics.episodes).toBeUndefined();
    expect(out.text()).toContain('backtest.html');
    expect(err.text()).toBe('');
    expect(readFileSync(join(dir, 'backtest.html'), 'utf8')).toContain('id="attribution"');
  });

  it.each([
    [{ policies: ['fixed', 'often'] }, /unknown policy "often"/],
    [{ scenario: { slippageBps: -1 } }, /slippage \(--slippage-bps\) must be in/],
    [{ scenario: { lp: { low: 1.2 } } }, /LP range/],
    [{ scenario: { episodeDays: 30 } }, /shorter than one 30-day episode/],
    [{ data: 'no-such-file.csv' }, /--data no-such-file.csv: no such file/],
  ])('bad options exit 2 with one line on stderr: %o', async (opts, message) => {
    const err = capture();
    expect(await backtestCommand({ ...opts, count: 10, out: dir, stdout: capture(), stderr: err, workers: 0 })).toBe(2);
    expect(err.text()).toMatch(message);
  });

  it('a CSV that does not parse exits 2 with its row number', async () => {
    const err = capture();
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'unix,date,symbol,open,high,low,close,Volume ETH,Volume USDT,tradecount\n1600000000000,2020-09-13 12:00:00,ETHUSDT,abc,1,1,1,1,1,1\n');
    expect(await backtestCommand({ data: bad, out: dir, stdout: capture(), stderr: err })).toBe(2);
    expect(err.text()).toMatch(/row 2/);
  });
});
