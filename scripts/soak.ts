/**
 * `npm run soak`: the real keeper (CLI process, block mode) on a devnet anvil, through the fault
 * proxy, for SOAK_BLOCKS blocks (default 20,000) mined in bursts while the market driver walks the
 * price; random faults from the chaos set come and go (seeded: SOAK_SEED replays a run). At the
 * end the chain and the journal are audited: double-sends, liquidations and unexplained nonces
 * must all be 0. Bounded by SOAK_MAX_MINUTES too. Prints a JSON summary as its last line; exits
 * 1 when an audit fails. Not part of `npm test`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { perpExchangeAbi } from '../contracts-abi/index.js';
import { createAnvilTestClient, createClients } from '../src/chain/clients.js';
import { mulberry32 } from '../src/core/risk/random.js';
import { devnetAccount } from '../src/devnet/accounts.js';
import { refreshFeeds } from '../src/devnet/deploy.js';
import { createMarketDriver } from '../src/devnet/market-driver.js';
import { startRpcProxy } from '../src/devnet/rpc-proxy.js';
import { ensureDevnetState, serializeAddresses, startDevnetFromState } from '../src/devnet/state.js';
import { auditChain, faultPhases, fileBytes, readJournalTxs, startKeeperChild, unexplainedNonces, type KeeperChild } from './soak-support.js';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name}=${raw}: expected a non-negative integer`);
  return Number(raw);
}

const BLOCKS = envInt('SOAK_BLOCKS', 20_000);
const MAX_MS = envInt('SOAK_MAX_MINUTES', 120) * 60_000;
const SEED = envInt('SOAK_SEED', Math.floor(Math.random() * 2 ** 31));
const BLOCK_MS = envInt('SOAK_BLOCK_MS', 60);
const BURST_MAX = Math.max(1, envInt('SOAK_BURST_MAX', 40));
const FAULTS = (process.env['SOAK_FAULTS'] ?? 'all').trim();
const say = (s: string) => console.log(`[soak] ${s}`);

/** A bounded random walk (2.5% a step, $1500..$2600): hedges all the time, never a price the demo margin cannot carry. */
function* boundedWalk(rng: () => number): Generator<bigint, never, undefined> {
  let price = 2_000;
  for (;;) {
    const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    price = Math.min(2_600, Math.max(1_500, price * Math.exp(0.025 * z)));
    yield BigInt(Math.round(price * 1e8));
  }
}

const t0 = Date.now();
const rng = mulberry32(SEED);
say(`seed ${SEED}, ${BLOCKS} blocks (one every ${BLOCK_MS} ms, 5% bursts of up to ${BURST_MAX}), at most ${MAX_MS / 60_000} min, faults: ${FAULTS}`);
const state = await ensureDevnetState();
const anvil = await startDevnetFromState(state, {});
const a = state.addresses;
await refreshFeeds(anvil.rpcUrl, a);
const test = createAnvilTestClient(anvil.rpcUrl);
const liquidator = createClients({ rpcUrls: [anvil.rpcUrl], chainId: a.chainId, privateKey: devnetAccount('liquidator').privateKey });
const pc = liquidator.publicClient;
const account = a.demo.perp.account;
const proxy = await startRpcProxy({ upstream: anvil.rpcUrl, seed: SEED });
const dataDir = mkdtempSync(join(tmpdir(), 'keeper-soak-'));
const addressesFile = join(dataDir, 'addresses.json');
writeFileSync(addressesFile, serializeAddresses(a));
const logPath = join(dataDir, 'keeper.log');
const env = {
  RPC_URLS: proxy.url,
  PRIVATE_KEY: devnetAccount('perpDemo').privateKey,
  ADDRESSES_FILE: addressesFile,
  TICK_MODE: 'block',
  TICK_INTERVAL_MS: '200',
  // The double-send audit counts a second hedge with no price change in between: with a fixed
  // band one change needs at most one hedge (the adaptive default may narrow between ticks).
  BAND_MODE: 'fixed',
  MAX_NOTIONAL_PER_DAY_USD: '1000000000',
  DATA_DIR: dataDir,
  LOG_LEVEL: 'info',
};
const events: Record<string, number> = {};
let keeper: KeeperChild = startKeeperChild(['run', '--adopt-history'], env, logPath, events);
let restarts = 0;
const headReads = () => (proxy.stats().requests['eth_blockNumber'] ?? 0) + (proxy.stats().requests['eth_getBlockByNumber'] ?? 0);
/** Bounded wait (this is a script, not a test): the keeper polled twice, or it is busy elsewhere. */
async function keeperCaughtUp(timeoutMs: number): Promise<void> {
  const base = headReads();
  const until = Date.now() + timeoutMs;
  while (headReads() < base + 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}
let miner: { stop(): Promise<void> } | null = null;
async function cleanupAll(): Promise<void> {
  await miner?.stop();
  await keeper.kill9();
  await proxy.stop();
  await anvil.stop();
}
process.once('SIGINT', () => void cleanupAll().then(() => process.exit(130)));

const startHead = await pc.getBlockNumber({ cacheTime: 0 });
while ((events['tick'] ?? 0) === 0) {
  if (!keeper.alive) throw new Error(`the keeper exited before its first tick: see ${logPath}`);
  if (Date.now() - t0 > 120_000) throw new Error(`no tick within 2 minutes: see ${logPath}`);
  await new Promise((r) => setTimeout(r, 50));
}
const nonceStart = await pc.getTransactionCount({ address: account, blockTag: 'latest' });
const rssStart = keeper.rssMb();
let rssPeak = rssStart ?? 0;
say(`keeper pid ${keeper.pid} ticking; RSS at start ${rssStart} MB; data in ${dataDir}`);

const phases = faultPhases(proxy, async () => {
  await keeper.kill9();
  restarts++;
  keeper = startKeeperChild(['run'], env, logPath, events);
});
const enabled = Object.keys(phases).filter((n) => FAULTS === 'all' || FAULTS.split(',').some((f) => n.startsWith(f.trim())));
if (FAULTS !== 'none' && FAULTS !== 'all' && enabled.length === 0) throw new Error(`SOAK_FAULTS=${FAULTS}: matches none of: ${Object.keys(phases).join('; ')}`);
const injected: Record<string, number> = {};
let active: { name: string; left: number } | null = null;
const driver = createMarketDriver({ rpcUrl: anvil.rpcUrl, addresses: a, path: boundedWalk(mulberry32(SEED ^ 0x5eed)), arbitrage: true });
/** Blocks keep coming whatever the loop does, like a real chain: transactions wait in the mempool for them. */
function startMiner(random: () => number): { stop(): Promise<void> } {
  let running = true;
  const done = (async () => {
    while (running) {
      await test.mine({ blocks: random() < 0.05 ? 1 + Math.floor(random() * BURST_MAX) : 1 });
      await new Promise((r) => setTimeout(r, BLOCK_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}
await test.setAutomine(false);
miner = startMiner(mulberry32(SEED ^ 0xb10c));
let mined = 0n;
let iterations = 0;
let liquidations = 0;
let driverFailures = 0;
let nextReport = 2_000n;

while (mined < BigInt(BLOCKS) && Date.now() - t0 < MAX_MS) {
  iterations++;
  await driver.step().catch((err: unknown) => {
    driverFailures++;
    say(`market step failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  });
  // The market rests between steps for a random number of keeper polls (0..3 after the first).
  for (let polls = 1 + Math.floor(rng() * 4); polls > 0; polls--) await keeperCaughtUp(5_000);
  mined = (await pc.getBlockNumber({ cacheTime: 0 })) - startHead;
  // A third party liquidates whenever it can: the keeper's job is that it never can.
  const liq = await pc
    .simulateContract({ account: liquidator.walletClient.account, address: a.perp, abi: perpExchangeAbi, functionName: 'liquidate', args: [account, BigInt(a.perpMarketId)] })
    .then((r) => r.request, () => null);
  if (liq) {
    await pc.waitForTransactionReceipt({ hash: await liquidator.walletClient.writeContract(liq) });
    liquidations++;
    say(`LIQUIDATED at block ${startHead + mined}`);
  }
  if (active && --active.left <= 0) {
    await phases[active.name]?.stop();
    active = null;
  }
  if (!active && enabled.length > 0 && FAULTS !== 'none' && rng() < 0.12) {
    const name = enabled[Math.floor(rng() * enabled.length)] as string;
    injected[name] = (injected[name] ?? 0) + 1;
    await phases[name]?.start();
    active = { name, left: 3 + Math.floor(rng() * 25) };
  }
  rssPeak = Math.max(rssPeak, keeper.rssMb() ?? 0);
  if (mined >= nextReport) {
    nextReport += 2_000n;
    say(`${mined} blocks, ${iterations} iterations, ${Math.round((Date.now() - t0) / 1000)} s, RSS ${keeper.rssMb()} MB, fault: ${active?.name ?? 'none'}, ticks ${events['tick'] ?? 0}, sent ${events['tx.sent'] ?? 0}`);
  }
}

if (active) await phases[active.name]?.stop();
// Clean air for the end: pending transactions land and the keeper settles them.
for (let i = 0; i < 5; i++) await keeperCaughtUp(5_000);
await miner.stop();
miner = null;
const rssEnd = keeper.rssMb();
const exitCode = await keeper.stop();
const endHead = await pc.getBlockNumber({ cacheTime: 0 });
const nonceEnd = await pc.getTransactionCount({ address: account, blockTag: 'latest' });
const journalPath = join(dataDir, 'journal.sqlite');
const journaled = readJournalTxs(journalPath, account);
const chain = await auditChain(pc, a, account, startHead + 1n, endHead, journaled);
const unexplained = await unexplainedNonces(pc, journaled, nonceStart, nonceEnd);
const summary = {
  seed: SEED,
  blocks: Number(endHead - startHead),
  iterations,
  minutes: Math.round((Date.now() - t0) / 600) / 100,
  rssStartMb: rssStart,
  rssEndMb: rssEnd,
  rssPeakMb: rssPeak,
  keeperRestarts: restarts,
  keeperExitCode: exitCode,
  journalBytes: fileBytes(journalPath, ['-wal', '-shm']),
  logBytes: fileBytes(logPath),
  priceSteps: driver.steps,
  marketStepFailures: driverFailures,
  trades: chain.trades,
  transactions: nonceEnd - nonceStart,
  doubleSends: chain.doubleSends,
  doubleSendBlocks: chain.doubleSendBlocks.slice(0, 20),
  liquidations: Math.max(liquidations, chain.liquidations),
  unexplainedNonces: unexplained.length,
  unexplainedNonceList: unexplained.slice(0, 20),
  // No reorg and no other signer in the soak: every such line is a false alarm.
  falseReorgs: events['chain.reorg'] ?? 0,
  falseForeignNonceLines: events['foreign nonce claimed'] ?? 0,
  faultsInjected: injected,
  proxyFaults: proxy.stats().faults,
  events: Object.fromEntries(['tick', 'tick.failed', 'tx.sent', 'tx.replaced', 'safe_mode.entered', 'safe_mode.left'].map((e) => [e, events[e] ?? 0])),
  dataDir,
};
await proxy.stop();
await anvil.stop();
say(`RSS at start ${summary.rssStartMb} MB, at end ${summary.rssEndMb} MB (peak ${summary.rssPeakMb} MB, ${restarts} restarts)`);
say(`journal ${summary.journalBytes} bytes, log ${summary.logBytes} bytes`);
say(`double-sends: ${summary.doubleSends}, liquidations: ${summary.liquidations}, unexplained nonces: ${summary.unexplainedNonces}`);
say(`false reorgs: ${summary.falseReorgs}, false "nonce used by a transaction the keeper did not send": ${summary.falseForeignNonceLines} lines`);
if (summary.blocks < BLOCKS) say(`stopped by SOAK_MAX_MINUTES after ${summary.blocks} of ${BLOCKS} blocks`);
console.log(JSON.stringify(summary));
const clean = summary.doubleSends + summary.liquidations + summary.unexplainedNonces + summary.falseReorgs + summary.falseForeignNonceLines === 0;
process.exit(clean && summary.blocks >= BLOCKS ? 0 : 1);
