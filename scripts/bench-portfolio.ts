/**
 * Bench section: the portfolio keeper on the devnet's multi-asset demo (2 assets, 3 pools, 2
 * venues, 2 LP positions): JSON-RPC requests and HTTP round-trips per steady-state tick, and tick
 * latency. Bands are widened so every tick holds: read + assess + plan, nothing sent.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { loadConfig } from '../src/config.js';
import { devnetAccount } from '../src/devnet/accounts.js';
import { devnetPortfolioYaml } from '../src/devnet/portfolio-file.js';
import { loadPortfolioFile } from '../src/portfolio/file.js';
import { createPortfolioKeeper } from '../src/runner/portfolio-keeper.js';
import { countHttpRoundTrips, createRpcCounter, discardLogger, distribution, log, type BenchDevnet, type Distribution } from './bench-env.js';

export interface PortfolioTickResult {
  assets: number;
  pools: number;
  venues: number;
  lpPositions: number;
  ticks: number;
  rpcRequestsPerTick: number;
  httpRoundTripsPerTick: number;
  methodsPerTick: Record<string, number>;
  latencyMs: Distribution;
}

export async function measurePortfolioTicks(d: BenchDevnet, ticks: number): Promise<PortfolioTickResult> {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-bench-portfolio-'));
  const file = join(dir, 'keeper.yaml');
  // Bands wide enough to hold on every tick: the cost of a quiet tick is what is measured.
  writeFileSync(file, devnetPortfolioYaml(d.addresses).replace(/band: [0-9.]+, bandPct: [0-9.]+/g, 'band: 1000000, bandPct: 0'));
  const config = loadConfig({ RPC_URLS: d.rpcUrl, PRIVATE_KEY: devnetAccount('portfolioDemo').privateKey, PORTFOLIO_FILE: file, JOURNAL_PATH: join(dir, 'journal.sqlite'), LOG_LEVEL: 'silent' });
  const portfolio = loadPortfolioFile(file);
  const counter = createRpcCounter();
  const http = countHttpRoundTrips(d.rpcUrl);
  const keeper = await createPortfolioKeeper({
    config, portfolio, rpcUrls: [d.rpcUrl], chainId: 31337, privateKey: config.secrets.privateKey as Hex, logger: discardLogger(),
    dryRun: false, telemetry: counter.telemetry, adoptHistory: true,
  });
  try {
    const block = await keeper.clients.publicClient.getBlockNumber({ cacheTime: 0 });
    for (let i = 0; i < 3; i++) await keeper.tickOnce(block); // the reader learns the token ids, ticks and reserves
    counter.reset();
    http.reset();
    const latencies: number[] = [];
    let lps = 0;
    for (let i = 0; i < ticks; i++) {
      const t0 = performance.now();
      const r = await keeper.tickOnce(block);
      latencies.push(performance.now() - t0);
      if (r.plan.actions.length > 0) throw new Error(`bench: the portfolio keeper planned ${r.plan.actions.length} action(s); it must hold`);
      lps = r.snapshot.lps.length;
    }
    const per = (n: number) => Number((n / ticks).toFixed(3));
    const out = {
      assets: portfolio.assets.length, pools: portfolio.pools.length, venues: portfolio.venues.length, lpPositions: lps, ticks,
      rpcRequestsPerTick: per(counter.total()), httpRoundTripsPerTick: per(http.count()),
      methodsPerTick: Object.fromEntries(Object.entries(counter.byMethod()).map(([m, n]) => [m, per(n)])),
      latencyMs: distribution(latencies),
    };
    log(`portfolio (${out.assets} assets, ${out.pools} pools, ${out.venues} venues): ${out.httpRoundTripsPerTick} round-trips/tick, median ${out.latencyMs.median} ms`);
    return out;
  } finally {
    http.restore();
    keeper.close();
  }
}
