import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { E8, addressesFileFor, setMarketPrice } from '../helpers/keeper.js';
import { runCli, startCli, waitForLine } from '../helpers/cli.js';
import { startAnvil } from '../../src/devnet/anvil.js';

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
    // The demo account has history from the devnet's setup: a first run adopts it.
    const run = await runCli(['run', '--max-ticks', '3', '--adopt-history'], env);
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

describe('configuration that would silently do something else stops the keeper (exit 2, one line naming it)', () => {
  const devnet = useDevnet();
  const nonceOf = (d: Devnet) => d.as('perpDemo').publicClient.getTransactionCount({ address: d.addresses.demo.perp.account });

  it('a misspelled RPC_URL next to a key and an addresses file: "did you mean", and no embedded devnet', async () => {
    const d = devnet();
    const env = envFor(d);
    const { RPC_URLS: url, ...rest } = env;
    const run = await runCli(['run', '--max-ticks', '1'], { ...rest, RPC_URL: url as string, HEDGE_RATO: '0.5' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('RPC_URL: unknown variable; did you mean RPC_URLS?');
    expect(run.stderr).toContain('HEDGE_RATO: unknown variable; did you mean HEDGE_RATIO?');
    expect(run.stdout).toBe('');
  });

  it('INCLUDE_NATIVE_ETH=yes is refused, naming the variable', async () => {
    const d = devnet();
    const run = await runCli(['run', '--max-ticks', '1'], envFor(d, { INCLUDE_NATIVE_ETH: 'yes' }));
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual(['invalid configuration:', 'INCLUDE_NATIVE_ETH=yes: expected true or false']);
  });

  it('an address with no code: exit 2 naming the variable and the address, nothing sent, no viem dump', async () => {
    const d = devnet();
    await setMarketPrice(d, 1_900n * E8);
    const nonce = await nonceOf(d);
    const eoa = d.address('deployer');
    const run = await runCli(['run', '--max-ticks', '2'], envFor(d, { ORACLE_FEED: eoa }));
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual(['invalid configuration:', `ORACLE_FEED=${eoa}: no contract at this address on chain 31337`]);
    expect(run.lines.map((l) => l['event'])).not.toContain('tick');
    expect(await nonceOf(d)).toBe(nonce);
  });

  it('an RPC on another chain than the addresses file: exit 2 naming both chains', async () => {
    const d = devnet();
    const other = await startAnvil({ chainId: 1 });
    try {
      const run = await runCli(['run', '--max-ticks', '1'], envFor(d, { RPC_URLS: other.rpcUrl }));
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^ADDRESSES_FILE=.*addresses\.json: written for chain 31337, but the RPC \(http:\/\/127\.0\.0\.1:\d+\) serves chain 1$/m);
      expect(run.stderr.trim().split('\n')).toHaveLength(2);
    } finally {
      await other.stop();
    }
  });

  it('METRICS_PORT in use: exit 2 naming the port and the host', async () => {
    const d = devnet();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const run = await runCli(['run', '--max-ticks', '1'], envFor(d, { METRICS_PORT: String(port) }));
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`METRICS_PORT=${port}: port in use on 127.0.0.1`);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('a journal path that cannot be created: exit 2 naming JOURNAL_PATH and the directory', async () => {
    const d = devnet();
    const blocker = join(mkdtempSync(join(tmpdir(), 'keeper-e2e-')), 'a-file');
    writeFileSync(blocker, '');
    const path = join(blocker, 'journal', 'journal.sqlite');
    const run = await runCli(['run', '--max-ticks', '1'], envFor(d, { JOURNAL_PATH: path }));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`JOURNAL_PATH=${path}: cannot create directory ${join(blocker, 'journal')} (ENOTDIR)`);
  });

  it('--max-ticks exits 1 when a tick failed (the feed lost its code after start)', async () => {
    const d = devnet();
    // No trade and no top-up (wide band, low trigger): blocks come only from the test, one tick each.
    const env = envFor(d, { TICK_MODE: 'block', DELTA_BAND_ETH: '1000', MARGIN_TRIGGER_RATIO: '0.01', MARGIN_TARGET_RATIO: '0.02' });
    const { child, done } = startCli(['run', '--max-ticks', '3'], env);
    let exited = false;
    void done.then(() => (exited = true));
    await waitForLine(child, (l) => l['event'] === 'tick');
    await d.test.setCode({ address: d.addresses.ethUsdFeed, bytecode: '0x' });
    // Each new block is a tick that cannot read the feed; mine until the run ends.
    while (!exited) {
      await d.test.mine({ blocks: 1 });
      await Promise.race([done, new Promise((r) => setTimeout(r, 250))]);
    }
    const run = await done;
    expect(run.code).toBe(1);
    const stopped = run.lines.find((l) => l['event'] === 'keeper.stopped');
    expect(stopped?.['failedTicks']).toBe(2);
    expect(run.lines.filter((l) => l['event'] === 'tick.failed')).toHaveLength(2);
  });
});

describe('small CLI things', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const run = await runCli(['--version'], {});
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(pkg.version);
  });

  it('history -n abc refuses a non-number, naming the option (exit 2)', async () => {
    const run = await runCli(['history', '-n', 'abc'], { DATA_DIR: mkdtempSync(join(tmpdir(), 'keeper-e2e-')) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`option '-n, --limit <n>' argument 'abc' is invalid. expected a positive integer`);
    expect(run.stdout).toBe('');
  });

  it('a key without RPC_URLS does not quietly run the demo', async () => {
    const run = await runCli(['run', '--max-ticks', '1'], { PRIVATE_KEY: `0x${'11'.repeat(32)}` });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^RPC_URLS=\(unset\): PRIVATE_KEY is set, but with no RPC_URLS the keeper runs the embedded devnet/m);
    expect(run.stderr).not.toContain('11'.repeat(32));
    expect(run.lines.map((l) => l['event'])).not.toContain('devnet.started');
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
    // The charts are drawn by the bundled uPlot (test/e2e/backtest-report.test.ts renders them in Chromium).
    expect(readFileSync(join(out, 'backtest.html'), 'utf8')).toMatch(/uPlot/);
  });

  it('a bad option value names the option', async () => {
    const run = await runCli(['backtest', '--count', 'lots'], {});
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('--count expects a number, got "lots"');
  });
});

