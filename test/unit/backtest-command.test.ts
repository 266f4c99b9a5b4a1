import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backtestCommand } from '../../src/backtest/command.js';

function capture(): { write: (s: string) => boolean; text: () => string } {
  const parts: string[] = [];
  return { write: (s: string) => parts.push(s) > 0, text: () => parts.join('') };
}

describe('backtestCommand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'backtest-cmd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('simulated jump path: writes backtest.json and backtest.html, prints the table', async () => {
    const out = capture();
    const err = capture();
    const code = await backtestCommand({ simulate: { model: 'jump', seed: 3, steps: 120 }, out: dir, policies: ['ww', 'time-2h'], stdout: out, stderr: err });
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'backtest.json'), 'utf8'));
    expect(json.source).toBe('simulated jump seed 3');
    expect(json.market.closes).toBe(121);
    expect(json.policies.map((p: { name: string }) => p.name)).toEqual(['ww', 'time-2h']);
    expect(json.policies[1].policy.band.rebalancePeriodSec).toBe(7200);
    expect(json.policies[0].series.timeSec).toHaveLength(121);
    expect(Object.keys(json.policies[0].metrics)).toEqual(expect.arrayContaining(['hedgingCostUsd', 'residualStdUsd', 'residualStdPerCloseUsd', 'maxDrawdownUsd', 'sharpe', 'sortino', 'trades', 'topUps', 'liquidations', 'timeOutsideBandPct']));
    expect(out.text()).toMatch(/^policy +cost \$ +std \$\/tick +std \$\/close/);
    expect(out.text()).toContain('backtest.html');
    // Not a terminal: plain progress lines.
    expect(err.text()).toContain('backtest ww: 0/');
    expect(err.text()).not.toContain('\r');
    expect(readFileSync(join(dir, 'backtest.html'), 'utf8')).toContain('<svg class="chart" id="chart-frontier"');
  });

  it.each([
    [{ policies: ['fixed', 'often'] }, /unknown policy "often"/],
    [{ scenario: { slippageBps: -1 } }, /slippage must be in/],
    [{ scenario: { lp: { widthPct: 100 } } }, /LP width/],
  ])('bad options exit 2 with one line on stderr: %o', async (opts, message) => {
    const err = capture();
    expect(await backtestCommand({ ...opts, count: 10, out: dir, stdout: capture(), stderr: err })).toBe(2);
    expect(err.text()).toMatch(message);
  });

  it('a CSV that does not parse exits 2 with its row number', async () => {
    const err = capture();
    const bad = join(dir, 'bad.csv');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, 'unix,date,symbol,open,high,low,close,Volume ETH,Volume USDT,tradecount\n1600000000000,2020-09-13 12:00:00,ETHUSDT,abc,1,1,1,1,1,1\n');
    expect(await backtestCommand({ data: bad, out: dir, stdout: capture(), stderr: err })).toBe(2);
    expect(err.text()).toMatch(/row 2/);
  });
});
