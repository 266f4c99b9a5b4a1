import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import { devnetPortfolioYaml } from '../../src/devnet/portfolio-file.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { runCli } from '../helpers/cli.js';
import { setPortfolioPrices } from '../helpers/portfolio-keeper.js';
import { addressesFileFor } from '../helpers/keeper.js';

/** The portfolio keeper as a user runs it: `keeper run` with PORTFOLIO_FILE pointing at a keeper.yaml. */

const E8 = 10n ** 8n;

function envFor(d: Devnet, yaml = devnetPortfolioYaml(d.addresses)): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-e2e-portfolio-'));
  writeFileSync(join(dir, 'keeper.yaml'), yaml);
  return {
    RPC_URLS: d.rpcUrl,
    PRIVATE_KEY: d.key('portfolioDemo'),
    PORTFOLIO_FILE: join(dir, 'keeper.yaml'),
    TICK_MODE: 'interval',
    TICK_INTERVAL_MS: '200',
    DATA_DIR: join(dir, 'data'),
  };
}

const perpEthSize = async (d: Devnet) =>
  (await d.as('portfolioDemo').publicClient.readContract({
    address: d.addresses.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [d.addresses.demo.portfolio.account, BigInt(d.addresses.perpMarketId)],
  })).sizeWei;

describe('keeper run / status with PORTFOLIO_FILE', () => {
  const devnet = useDevnet();

  it('run: hedges an ETH move on the perp and journals it under the asset and venue; history shows it', async () => {
    const d = devnet();
    const env = envFor(d);
    await setPortfolioPrices(d, { eth: 1_960n * E8, btc: 60_000n * E8 });
    const before = await perpEthSize(d);
    const run = await runCli(['run', '--max-ticks', '3', '--adopt-history'], env);
    expect(run.code).toBe(0);
    const started = run.lines.find((l) => l['event'] === 'keeper.started');
    expect((started?.['portfolio'] as Record<string, unknown>)['assets']).toEqual(['ETH', 'BTC', 'SOL']);
    expect(run.lines.some((l) => l['event'] === 'tx.mined' && String(l['label']).startsWith('perp.trade ETH'))).toBe(true);
    expect(await perpEthSize(d)).toBeLessThan(before);
    const tick = run.lines.find((l) => l['event'] === 'tick') as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(tick['assets'] ?? {})).toEqual(['ETH', 'BTC', 'SOL']);
    expect(Object.keys(tick['venues'] ?? {})).toEqual(['perp', 'aave']);
    const history = await runCli(['history', '--json'], env);
    const rows = JSON.parse(history.stdout) as Array<{ kind: string; reason: string }>;
    expect(rows.some((r) => r.kind === 'adjustHedge' && r.reason.includes('on perp:ETH'))).toBe(true);
  });

  it('--dry-run=fork: one tick carried out on a fork, before/after per asset and venue; the real chain untouched', async () => {
    const d = devnet();
    const env = envFor(d);
    await setPortfolioPrices(d, { eth: 1_960n * E8, btc: 60_000n * E8 });
    const before = await perpEthSize(d);
    const nonce = await d.as('portfolioDemo').publicClient.getTransactionCount({ address: d.addresses.demo.portfolio.account });
    const run = await runCli(['run', '--dry-run=fork'], env);
    expect(run.code).toBe(0);
    const report = run.lines.find((l) => l['event'] === 'dry_run.fork') as Record<string, Record<string, Record<string, Record<string, unknown>>>>;
    expect(report['before']?.['assets']?.['ETH']?.['inBand']).toBe(false);
    expect(report['after']?.['assets']?.['ETH']?.['inBand']).toBe(true);
    expect(Object.keys(report['after']?.['venues'] ?? {})).toEqual(['perp/ETH', 'perp/BTC', 'aave']);
    expect(await perpEthSize(d)).toBe(before);
    expect(await d.as('portfolioDemo').publicClient.getTransactionCount({ address: d.addresses.demo.portfolio.account })).toBe(nonce);
  });

  it('--dry-run: plans and simulates every transaction, sends nothing', async () => {
    const d = devnet();
    await setPortfolioPrices(d, { eth: 1_960n * E8, btc: 60_000n * E8 });
    const nonce = await d.as('portfolioDemo').publicClient.getTransactionCount({ address: d.addresses.demo.portfolio.account });
    const run = await runCli(['run', '--dry-run', '--max-ticks', '2'], envFor(d));
    expect(run.code).toBe(0);
    expect(run.lines.some((l) => l['event'] === 'tx.simulated' && String(l['label']).startsWith('perp.trade ETH'))).toBe(true);
    expect(run.lines.some((l) => l['event'] === 'tx.sent')).toBe(false);
    expect(await d.as('portfolioDemo').publicClient.getTransactionCount({ address: d.addresses.demo.portfolio.account })).toBe(nonce);
  });

  it('status: every asset and every venue bucket, readable', async () => {
    const d = devnet();
    const run = await runCli(['status'], envFor(d));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\s+ETH\s+\$2000\.00\s+/m);
    expect(run.stdout).toMatch(/^\s+BTC\s+\$60000\.00\s+/m);
    expect(run.stdout).toMatch(/^\s+perp\s+ETH\s+0\.2995\s+0\.1500 \/ 0\.2500/m);
    expect(run.stdout).toMatch(/^\s+aave\s+account\s+1\.\d{4}\s+1\.3000 \/ 1\.6000\s+ETH \$\d+\.\d\d, BTC \$\d+\.\d\d/m);
    expect(run.stdout).toMatch(/LP #\d+ weth-wbtc/);
  });

  it('migration: `keeper portfolio from-env` prints the keeper.yaml of a single-asset configuration, and the keeper runs on it', async () => {
    const d = devnet();
    const single = { RPC_URLS: d.rpcUrl, PRIVATE_KEY: d.key('perpDemo'), ADDRESSES_FILE: addressesFileFor(d), HEDGE_VENUE: 'perp', DELTA_BAND_ETH: '0.7' };
    const printed = await runCli(['portfolio', 'from-env'], single);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`markets: { ETH: ${d.addresses.perpMarketId} }`);
    expect(printed.stdout).toContain('band: 0.7,');
    const env = envFor(d, printed.stdout);
    const run = await runCli(['run', '--max-ticks', '1', '--adopt-history'], { ...env, PRIVATE_KEY: d.key('perpDemo') });
    expect(run.code).toBe(0);
    const tick = run.lines.find((l) => l['event'] === 'tick') as Record<string, Record<string, Record<string, unknown>>>;
    // max(band 0.7, 5% of the gross spot): the file's band is a floor.
    expect(Number(tick['assets']?.['ETH']?.['band'])).toBeGreaterThanOrEqual(0.7);
    expect(Object.keys(tick['venues'] ?? {})).toEqual(['perp']);
  });

  it('a mistake in the file stops the keeper before any tick, naming the file and the key', async () => {
    const d = devnet();
    const yaml = devnetPortfolioYaml(d.addresses).replace(/feed: 0x[0-9a-fA-F]{40}, heartbeat: 3600 }$/m, 'feed: 0x1234, heartbeat: 3600 }');
    const run = await runCli(['run', '--max-ticks', '1'], envFor(d, yaml));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('keeper.yaml: assets.BTC.feed: not an address');
    expect(run.lines.filter((l) => l['event'] === 'tick')).toEqual([]);
  });

  it('an address with no contract on this chain is named by its key before any tick', async () => {
    const d = devnet();
    const yaml = devnetPortfolioYaml(d.addresses).replace(`exchange: ${d.addresses.perp}`, 'exchange: 0x00000000000000000000000000000000000000aa');
    const run = await runCli(['run', '--max-ticks', '1'], envFor(d, yaml));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('keeper.yaml: venues.perp.exchange (0x00000000000000000000000000000000000000aa): no contract at this address on chain 31337');
  });
});
