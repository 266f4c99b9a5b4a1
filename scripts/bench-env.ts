/**
 * What every bench section shares: a devnet anvil from the dump, keepers on it with their RPC
 * traffic counted at the transport, a discarding logger, and order statistics.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEther, type Hex } from 'viem';
import { loadConfig, type KeeperConfig } from '../src/config.js';
import { createClients, type Clients } from '../src/chain/clients.js';
import { createKeeper, type Keeper } from '../src/runner/keeper.js';
import type { TickResult } from '../src/runner/tick.js';
import { createLogger, type Logger } from '../src/monitor/logger.js';
import type { KeeperTelemetry } from '../src/monitor/telemetry.js';
import { devnetAccount, type DevnetRole } from '../src/devnet/accounts.js';
import { refreshFeeds, DEVNET_ETH_PRICE_E8, DEVNET_POOL_FEE, type DevnetAddresses } from '../src/devnet/deploy.js';
import { mockUsdcAbi } from '../contracts-abi/index.js';
import { ensureDevnetState, serializeAddresses, startDevnetFromState } from '../src/devnet/state.js';
import type { AnvilInstance } from '../src/devnet/anvil.js';
import { addressesFromDevnet } from '../src/runner/addresses.js';
import { fundWithTokens, mintLpPosition, poolTokens, tickSpacingOf } from '../src/devnet/uniswap.js';
import { ticksAroundPrice } from '../src/spot/uniswap-math.js';

export interface BenchDevnet {
  anvil: AnvilInstance;
  rpcUrl: string;
  addresses: DevnetAddresses;
  as(role: DevnetRole): Clients;
  stop(): Promise<void>;
}

/** A fresh anvil loaded from the deployed devnet dump (deployed first on a clean clone). */
export async function startBenchDevnet(opts: { blockTimeSec?: number } = {}): Promise<BenchDevnet> {
  const state = await ensureDevnetState();
  const anvil = await startDevnetFromState(state, opts);
  await refreshFeeds(anvil.rpcUrl, state.addresses);
  const cache = new Map<DevnetRole, Clients>();
  return {
    anvil,
    rpcUrl: anvil.rpcUrl,
    addresses: state.addresses,
    as(role) {
      let c = cache.get(role);
      if (!c) {
        c = createClients({ rpcUrls: [anvil.rpcUrl], chainId: 31337, privateKey: devnetAccount(role).privateKey, pollingIntervalMs: 20 });
        cache.set(role, c);
      }
      return c;
    },
    stop: () => anvil.stop(),
  };
}

/** A logger that formats every line (as the daemon does) and throws it away. */
export function discardLogger(): Logger {
  return createLogger({ level: 'info', format: 'json', destination: { write: () => undefined } });
}

/** JSON-RPC requests by method, as the keeper's transport reports them. */
export interface RpcCounter {
  telemetry: KeeperTelemetry;
  total(): number;
  byMethod(): Record<string, number>;
  reset(): void;
}

export function createRpcCounter(extra: KeeperTelemetry = {}): RpcCounter {
  let methods = new Map<string, number>();
  return {
    telemetry: {
      ...extra,
      rpcRequest(url, method) {
        methods.set(method, (methods.get(method) ?? 0) + 1);
        extra.rpcRequest?.(url, method);
      },
    },
    total: () => [...methods.values()].reduce((a, b) => a + b, 0),
    byMethod: () => Object.fromEntries([...methods.entries()].sort()),
    reset: () => (methods = new Map()),
  };
}

/**
 * HTTP requests to one URL, counted by wrapping the global fetch viem's http transport calls:
 * a JSON-RPC batch would be one round-trip carrying several requests.
 */
export function countHttpRoundTrips(url: string): { count(): number; reset(): void; restore(): void } {
  const original = globalThis.fetch;
  let n = 0;
  globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (target.startsWith(url)) n++;
    return original(input, init);
  }) as typeof fetch;
  return { count: () => n, reset: () => (n = 0), restore: () => (globalThis.fetch = original) };
}

export interface BenchKeeper {
  keeper: Keeper;
  config: KeeperConfig;
  close(): Promise<void>;
}

/** A keeper on the bench devnet signing as the perp demo account; its journal in a temp dir. */
export async function benchKeeper(
  d: BenchDevnet,
  opts: { env?: Record<string, string>; dryRun?: boolean; telemetry?: KeeperTelemetry; onTick?: (r: TickResult) => void; logger?: Logger } = {},
): Promise<BenchKeeper> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keeper-bench-'));
  const key: Hex = devnetAccount('perpDemo').privateKey;
  const addressesFile = join(dataDir, 'addresses.json');
  writeFileSync(addressesFile, serializeAddresses(d.addresses));
  const config = loadConfig({
    RPC_URLS: d.rpcUrl, PRIVATE_KEY: key, ADDRESSES_FILE: addressesFile, COOLDOWN_SEC: '0', DATA_DIR: dataDir, LOG_FORMAT: 'json', ...opts.env,
  });
  const keeper = await createKeeper({
    config,
    rpcUrls: [d.rpcUrl],
    chainId: 31337,
    privateKey: key,
    addresses: addressesFromDevnet(d.addresses),
    logger: opts.logger ?? discardLogger(),
    dryRun: opts.dryRun ?? false,
    telemetry: opts.telemetry,
    onTick: opts.onTick,
    adoptHistory: true, // a fresh bench devnet: the demo account's deploy-time history is not the keeper's
  });
  return {
    keeper,
    config,
    async close() {
      await keeper.stop();
      // The journal (when this keeper version has one) holds a file handle.
      (keeper as { close?: () => void }).close?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Give the perp demo account `count` more small LP positions in the hedged pool. */
export async function addLpPositions(d: BenchDevnet, count: number): Promise<void> {
  if (count <= 0) return;
  const a = d.addresses;
  const demo = d.as('perpDemo');
  const wethEach = parseEther('0.05');
  const usdcEach = 100n * 10n ** 6n;
  const owner = d.as('deployer');
  const mint = await owner.walletClient.writeContract({
    address: a.usdc,
    abi: mockUsdcAbi,
    functionName: 'mint',
    args: [demo.walletClient.account.address, usdcEach * BigInt(count)],
  });
  await owner.publicClient.waitForTransactionReceipt({ hash: mint });
  await fundWithTokens(demo, { weth: a.weth, usdc: a.usdc, wethWei: wethEach * BigInt(count), usdcUnits: 0n });
  const { baseIsToken0 } = poolTokens(a.weth, a.usdc);
  for (let i = 0; i < count; i++) {
    // Ranges from ±3% to ±30%, so positions differ the way a real book's do.
    const range = ticksAroundPrice(DEVNET_ETH_PRICE_E8, 3 + (i % 10) * 3, tickSpacingOf(DEVNET_POOL_FEE), baseIsToken0);
    await mintLpPosition(demo, {
      positionManager: a.uniswap.positionManager,
      weth: a.weth,
      usdc: a.usdc,
      fee: DEVNET_POOL_FEE,
      ...range,
      amountWethWei: wethEach,
      amountUsdcUnits: usdcEach,
    });
  }
}

/** Nearest-rank quantile of a sample (q in [0, 1]). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface Distribution {
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

export function distribution(values: readonly number[], digits = 3): Distribution {
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number) => Number(x.toFixed(digits));
  return {
    n: s.length,
    min: r(s[0] ?? Number.NaN),
    median: r(quantile(s, 0.5)),
    p95: r(quantile(s, 0.95)),
    max: r(s[s.length - 1] ?? Number.NaN),
    mean: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}
