import type { Hex } from 'viem';
import { loadConfig, resolveAddresses, type KeeperConfig } from '../../src/config.js';
import { createKeeper, type Keeper } from '../../src/runner/keeper.js';
import { readAddressesFile } from '../../src/runner/addresses.js';
import { createRecordingLogger } from '../../src/monitor/logger.js';
import { serializeAddresses } from '../../src/devnet/state.js';
import { movePrice } from '../../src/devnet/market-driver.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Devnet } from './devnet.js';
import type { DevnetRole } from '../../src/devnet/accounts.js';
import type { KeeperTelemetry } from '../../src/monitor/telemetry.js';

/** Write the devnet's addresses where ADDRESSES_FILE can point. */
export function addressesFileFor(d: Devnet): string {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-test-'));
  const path = join(dir, 'addresses.json');
  writeFileSync(path, serializeAddresses(d.addresses));
  return path;
}

export interface TestKeeper {
  keeper: Keeper;
  config: KeeperConfig;
  lines: () => Array<Record<string, unknown>>;
}

/** A keeper on the devnet, signing as a demo account, with a recording logger. */
export async function keeperOn(
  d: Devnet,
  env: Record<string, string> = {},
  opts: { role?: DevnetRole; dryRun?: boolean; rpcUrl?: string; telemetry?: KeeperTelemetry; onLine?: (line: string) => void; adoptHistory?: boolean } = {},
): Promise<TestKeeper> {
  const venue = env['HEDGE_VENUE'] ?? 'perp';
  const role = opts.role ?? (venue === 'aave' ? 'aaveDemo' : 'perpDemo');
  const rpcUrl = opts.rpcUrl ?? d.rpcUrl;
  const config = loadConfig({
    RPC_URLS: rpcUrl,
    PRIVATE_KEY: d.key(role),
    ADDRESSES_FILE: addressesFileFor(d),
    COOLDOWN_SEC: '0',
    // The chain tests assert exact band arithmetic: the fixed band (the default adaptive band
    // moves with LP gamma and short-term volatility; its own tests set it).
    BAND_MODE: 'fixed',
    LOG_FORMAT: 'json',
    // Every keeper its own journal: test files run in parallel on the same chain id and keys.
    JOURNAL_PATH: join(mkdtempSync(join(tmpdir(), 'keeper-journal-')), 'journal.sqlite'),
    ...env,
  });
  const addresses = resolveAddresses(config, readAddressesFile(config.addressesFile as string));
  const { logger, lines } = createRecordingLogger('debug', opts.onLine);
  const keeper = await createKeeper({
    config,
    rpcUrls: config.chain.rpcUrls,
    chainId: 31337,
    privateKey: config.secrets.privateKey as Hex,
    addresses,
    logger,
    dryRun: opts.dryRun ?? false,
    telemetry: opts.telemetry,
    // Each test keeper has a new journal on a demo account with deploy-time history.
    adoptHistory: opts.adoptHistory ?? true,
    // Automining: the receipt follows the send within milliseconds (more under load).
    settleWaitMs: 5_000,
  });
  return { keeper, config, lines };
}

/** Move the oracle (as its owner) and arbitrage the Uniswap pool to the same price. */
export async function setMarketPrice(d: Devnet, priceE8: bigint, opts: { arbitrage?: boolean } = {}): Promise<void> {
  await movePrice(d.rpcUrl, d.addresses, priceE8, { arbitrage: opts.arbitrage ?? true });
}

export const E8 = 10n ** 8n;
export const abs = (x: bigint): bigint => (x < 0n ? -x : x);
