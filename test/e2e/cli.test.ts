import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { E8, addressesFileFor, setMarketPrice } from '../helpers/keeper.js';
import { runCli, startCli, waitForLine } from '../helpers/cli.js';

function envFor(d: Devnet, extra: Record<string, string> = {}): Record<string, string> {
  return {
    RPC_URLS: d.rpcUrl,
    PRIVATE_KEY: d.key('perpDemo'),
    ADDRESSES_FILE: addressesFileFor(d),
    TICK_MODE: 'interval',
    TICK_INTERVAL_MS: '200',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'keeper-e2e-')),
    ...extra,
  };
}

async function perpSize(d: Devnet): Promise<bigint> {
  const acct = await d.as('perpDemo').publicClient.readContract({
    address: d.addresses.perp,
    abi: perpExchangeAbi,
    functionName: 'getAccount',
    args: [d.addresses.demo.perp.account, BigInt(d.addresses.perpMarketId)],
  });
  return acct.sizeWei;
}

describe('the keeper CLI as a process', () => {
  const devnet = useDevnet();

  it('run: hedges a breached delta on chain and logs JSON lines with the design event names', async () => {
    const d = devnet();
    await setMarketPrice(d, 1_900n * E8);
    const before = await perpSize(d);
    const env = envFor(d);
    const run = await runCli(['run', '--max-ticks', '3'], env);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const events = run.lines.map((l) => l['event']);
    expect(events).toContain('keeper.started');
    expect(events).toContain('tick');
    expect(events).toContain('keeper.stopped');
    const mined = run.lines.filter((l) => l['event'] === 'tx.mined');
    expect(mined.map((l) => l['label'])).toContain('perp.trade');
    for (const l of run.lines) {
      expect(l['chainId']).toBe(31337);
      if (l['event'] === 'tick') expect(l['account']).toBe(d.addresses.demo.perp.account);
    }
    expect(await perpSize(d)).toBeLessThan(before);
    // The key never reaches the log.
    expect(run.stdout.toLowerCase()).not.toContain(d.key('perpDemo').slice(2).toLowerCase());
    // The journal remembers what was done and why.
    const history = await runCli(['history', '--json'], env);
    expect(history.code).toBe(0);
    const rows = JSON.parse(history.stdout) as Array<{ kind: string; status: string; reason: string; txs: Array<{ label: string; status: string; raw?: string }> }>;
    expect(rows[0]).toMatchObject({ kind: 'adjustHedge', status: 'done', reason: expect.stringMatching(/outside band/) });
    expect(rows[0]?.txs.map((t) => `${t.label}:${t.status}`)).toEqual(['perp.trade:mined']);
    expect(rows[0]?.txs[0]?.raw).toBeUndefined();
    const table = await runCli(['history'], env);
    expect(table.stdout).toMatch(/adjustHedge\s+DONE/);
  });

  it('run --dry-run=fork: executes the plan on a fork, reports the after-state, the base chain is unchanged', async () => {
    const d = devnet();
    await setMarketPrice(d, 1_900n * E8);
    const before = await perpSize(d);
    const nonce = await d.as('perpDemo').publicClient.getTransactionCount({ address: d.addresses.demo.perp.account });
    const run = await runCli(['run', '--dry-run=fork'], envFor(d));
    expect(run.code).toBe(0);
    const report = run.lines.find((l) => l['event'] === 'dry_run.fork') as
      | { before: { inBand: boolean }; after: { inBand: boolean; deltaEth: string; ratio: string }; gasUsed: string }
      | undefined;
    expect(report?.before.inBand).toBe(false);
    expect(report?.after.inBand).toBe(true);
    expect(Number(report?.gasUsed)).toBeGreaterThan(21_000);
    expect(await perpSize(d)).toBe(before);
    expect(await d.as('perpDemo').publicClient.getTransactionCount({ address: d.addresses.demo.perp.account })).toBe(nonce);
  });

  it('SIGTERM finishes the tick in flight and exits 0', async () => {
    const d = devnet();
    const { child, done } = startCli(['run'], envFor(d));
    await waitForLine(child, (l) => l['event'] === 'tick');
    child.kill('SIGTERM');
    const run = await done;
    expect(run.code).toBe(0);
    expect(run.lines.map((l) => l['event'])).toContain('keeper.stopped');
  });

  it('an invalid configuration exits 2 and names the variable', async () => {
    const d = devnet();
    const run = await runCli(['run'], envFor(d, { HEDGE_RATIO: 'lots', MAX_SLIPPAGE_BPS: '-3' }));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('HEDGE_RATIO=lots');
    expect(run.stderr).toContain('MAX_SLIPPAGE_BPS=-3');
    expect(run.stdout).toBe('');
  });

  it('an unreachable RPC at start is a clear error and nothing is sent', async () => {
    const d = devnet();
    const nonce = await d.as('perpDemo').publicClient.getTransactionCount({ address: d.addresses.demo.perp.account });
    const run = await runCli(['run'], envFor(d, { RPC_URLS: 'http://127.0.0.1:9' }));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/RPC_URLS: cannot reach http:\/\/127\.0\.0\.1:9/);
    expect(await d.as('perpDemo').publicClient.getTransactionCount({ address: d.addresses.demo.perp.account })).toBe(nonce);
  });

  it('status prints one readable snapshot', async () => {
    const d = devnet();
    const run = await runCli(['status'], envFor(d));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/net delta\s+-?\d+\.\d{4} ETH/);
    expect(run.stdout).toMatch(/margin ratio\s+0\.\d{4}/);
    expect(run.stdout).toMatch(/liquidation price\s+\$\d/);
    expect(run.stdout).not.toMatch(/ETH ETH|USDC USDC|"level"/);
  });
});

describe('npm start with no RPC configured (the README run command)', () => {
  it('starts the embedded devnet, ticks, and exits cleanly', async () => {
    const run = await runCli(['run', '--max-ticks', '3'], {});
    expect(run.code).toBe(0);
    const events = run.lines.map((l) => l['event']);
    expect(events).toContain('devnet.started');
    expect(events.filter((e) => e === 'tick').length).toBe(3);
  });
});

describe('keeper backtest (the CLI)', () => {
  it('writes the JSON and the HTML report for a slice of the shipped data', async () => {
    const out = mkdtempSync(join(tmpdir(), 'keeper-bt-'));
    const run = await runCli(['backtest', '--count', '300', '--out', out, '--policies', 'fixed,time-1h'], {});
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'backtest.json'), 'utf8')) as { policies?: Array<{ name?: string }> } & Record<string, unknown>;
    expect(JSON.stringify(report)).toContain('time-1h');
    expect(readFileSync(join(out, 'backtest.html'), 'utf8')).toMatch(/<svg/);
  });

  it('a bad option value names the option', async () => {
    const run = await runCli(['backtest', '--count', 'lots'], {});
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('--count expects a number, got "lots"');
  });
});

