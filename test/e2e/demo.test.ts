import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJsonLines, runCli, startCli, waitForLine } from '../helpers/cli.js';

/**
 * The README's first command: `npm start` with no RPC configured runs the demo on the embedded
 * devnet. A newcomer must see a hedge and a margin top-up reach the chain within a minute, on
 * every run and on either demo venue, and a seed must name the run so it can be replayed.
 */

type Line = Record<string, unknown>;

/** The last transaction of each action: when it is mined, the action reached the chain. */
const FINAL_TX = {
  topUp: /^(perp\.deposit|aave\.supply)/,
  // perp: one trade; Aave: borrow then sell (exactInput), or buy (exactOutput) then repay.
  adjustHedge: /^(perp\.trade|aave\.repay|uniswap\.exactInput)/,
} as const;

function minedFor(kind: keyof typeof FINAL_TX): (l: Line) => boolean {
  return (l) =>
    l['event'] === 'tx.mined' && FINAL_TX[kind].test(String(l['label'])) && (l['action'] === undefined || l['action'] === kind);
}

const DEMO_BUDGET_MS = 60_000;

/** Short form of a log line for a failure message: what the demo did, in order. */
function brief(l: Line): string {
  const parts = [l['event'], l['label'], l['decision'], l['safeMode'], l['msg']].filter((v) => v !== undefined && v !== null);
  return parts.map(String).join(' ').slice(0, 160);
}

describe('npm start: the embedded demo shows a hedge and a top-up within 60 s, every run', () => {
  it.each([
    ['perp', 1],
    ['perp', 2],
    ['aave', 1],
    ['aave', 2],
  ] as const)('HEDGE_VENUE=%s --seed %i', async (venue, seed) => {
    const { child, done } = startCli(['run', '--seed', String(seed)], { HEDGE_VENUE: venue });
    let output = '';
    let errors = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (errors += d.toString()));
    const within = (match: (l: Line) => boolean) =>
      waitForLine(child, match, DEMO_BUDGET_MS).catch((err: unknown) => {
        const seen = parseJsonLines(output).map(brief).filter((b) => !b.startsWith('rpc'));
        throw new Error(`${(err as Error).message}; the demo logged:\n${seen.slice(-60).join('\n')}\nstderr: ${errors.slice(-2000)}`);
      });
    // Every wait starts at the spawn: the budget covers the devnet's start, as a user sees it.
    const waited = await Promise.all([
      within((l) => l['event'] === 'devnet.started'),
      within(minedFor('topUp')),
      within(minedFor('adjustHedge')),
    ]).then(
      (lines) => ({ lines }),
      (error: unknown) => ({ error }),
    );
    // The check below reads the first tick after the top-up mined: on a loaded machine the
    // top-up can be the last line seen so far, so wait for that tick before stopping the demo.
    if (!('error' in waited)) {
      const tickAfterTopUp = () => {
        const lines = parseJsonLines(output);
        const mined = lines.findIndex(minedFor('topUp'));
        return mined >= 0 && lines.some((l, i) => i > mined && l['event'] === 'tick');
      };
      const deadline = Date.now() + 30_000;
      while (!tickAfterTopUp() && Date.now() < deadline && child.exitCode === null) {
        await new Promise<void>((r) => {
          const wake = () => { clearTimeout(timer); child.stdout?.off('data', wake); child.off('exit', wake); r(); };
          const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
          child.stdout?.once('data', wake);
          child.once('exit', wake);
        });
      }
    }
    child.kill('SIGINT'); // Ctrl-C, as the README says: finishes the tick in flight, exits 0
    const run = await done;
    if ('error' in waited) throw waited.error;
    const [started, topUp, hedge] = waited.lines;
    expect(started['seed']).toBe(seed);
    expect(String(started['msg'])).toContain(`--seed ${seed}`);
    expect(String(topUp['label'])).toMatch(venue === 'perp' ? /^perp\.deposit/ : /^aave\.supply/);
    expect(String(hedge['label'])).toMatch(venue === 'perp' ? /^perp\.trade/ : /^(aave\.repay|uniswap\.exactInput)/);
    expect(run.code).toBe(0);
    expect(run.lines.map((l) => l['event'])).toContain('keeper.stopped');
    // The top-up did its job: the first tick that reads its block is back above the trigger
    // (it was planned on a ratio under it, before or after the hedge planned with it).
    const planned = run.lines.findIndex((l) => l['event'] === 'tick' && String(l['decision']).includes('topUp'));
    const mined = run.lines.findIndex(minedFor('topUp'));
    const after = run.lines.findIndex((l, i) => i > mined && l['event'] === 'tick');
    expect(planned).toBeGreaterThanOrEqual(0);
    expect(planned).toBeLessThan(mined);
    expect(Number(run.lines[after]?.['marginRatio'])).toBeGreaterThanOrEqual(venue === 'perp' ? 0.15 : 1.3);
  }, DEMO_BUDGET_MS + 60_000);

  it.each([1, 2])('the multi-asset demo (no HEDGE_VENUE) --seed %i: a hedge and a top-up on perp, Aave and Morpho, a hedge on Hyperliquid', async (seed) => {
    const { child, done } = startCli(['run', '--seed', String(seed)], {});
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    const mined = (label: RegExp) => (l: Line) => l['event'] === 'tx.mined' && label.test(String(l['label']));
    const waits = {
      started: (l: Line) => l['event'] === 'devnet.started',
      perpTopUp: mined(/^perp\.deposit/),
      aaveTopUp: mined(/^aave\.supply/),
      perpHedge: mined(/^perp\.trade/),
      aaveHedge: mined(/^(aave\.repay|uniswap\.exactInput)/),
      morphoTopUp: mined(/^morpho\.supplyCollateral/),
      morphoHedge: mined(/^morpho\.(borrow|repay)/),
      hlHedge: (l: Line) => l['event'] === 'hyperliquid.order.filled' || l['event'] === 'hyperliquid.order.partial',
    };
    const waited = await Promise.all(Object.values(waits).map((m) => waitForLine(child, m, DEMO_BUDGET_MS))).then(
      (lines) => ({ lines }),
      (error: unknown) => ({ error }),
    );
    child.kill('SIGINT');
    const run = await done;
    if ('error' in waited) {
      const seen = parseJsonLines(output).map(brief).filter((b) => !b.startsWith('rpc'));
      throw new Error(`${(waited.error as Error).message}; the demo logged:\n${seen.slice(-60).join('\n')}`);
    }
    expect(waited.lines[0]?.['seed']).toBe(seed);
    expect(String(waited.lines[0]?.['msg'])).toContain('multi-asset portfolio');
    expect(run.code).toBe(0);
    // Every action names its venue: the journal and the log say where each went.
    const planned = run.lines.filter((l) => l['event'] === 'plan' && Array.isArray(l['actions']) && (l['actions'] as unknown[]).length > 0);
    const venues = new Set(planned.flatMap((l) => (l['actions'] as Array<Record<string, unknown>>).map((a) => String(a['venue'] ?? a['to']))));
    expect([...venues].sort()).toEqual(['aave', 'hl', 'morpho', 'perp']);
  }, DEMO_BUDGET_MS + 60_000);

  it('without --seed, a random seed is printed so the run can be replayed', async () => {
    const run = await runCli(['run', '--max-ticks', '1'], {});
    expect(run.code).toBe(0);
    const started = run.lines.find((l) => l['event'] === 'devnet.started');
    expect(Number.isInteger(started?.['seed'])).toBe(true);
    expect(String(started?.['msg'])).toContain(`replay with --seed ${String(started?.['seed'])}`);
  });

  it('a seed that is not a number is refused, naming the option', async () => {
    const run = await runCli(['run', '--seed', 'lucky'], {});
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('--seed expects a non-negative integer, got "lucky"');
  });

  it('--seed against a real chain (RPC_URLS set) is refused, not silently ignored', async () => {
    const a = '0x0000000000000000000000000000000000000001';
    const run = await runCli(['run', '--seed', '3'], {
      RPC_URLS: 'http://127.0.0.1:9', PRIVATE_KEY: `0x${'11'.repeat(32)}`,
      ORACLE_FEED: a, WETH: a, USDC: a, UNISWAP_POSITION_MANAGER: a, UNISWAP_POOL: a, PERP_EXCHANGE: a,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--seed 3: seeds the embedded demo's market, but RPC_URLS is set");
  });

  it('history and status after the demo explain where its journal and chain went', async () => {
    // An empty DATA_DIR: a developer's ./data from a live run must not answer instead.
    const env = { DATA_DIR: mkdtempSync(join(tmpdir(), 'keeper-demo-')) };
    const history = await runCli(['history'], env);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/journal is kept in\s+memory/);
    expect(history.stdout).toMatch(/RPC_URLS/);
    expect(history.stdout).not.toMatch(/has not acted/);
    const status = await runCli(['status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/fresh copy of the embedded devnet/);
    expect(status.stdout).toMatch(/net delta/);
  });
});
