/**
 * Pieces of `npm run soak`: the keeper as a child process (log to a file, RSS from /proc), the
 * fault phases it is put through, and the audits of the chain and the journal at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseEventLogs, type Address, type Chain, type Hex, type PublicClient, type Transport } from 'viem';
import { perpExchangeAbi, priceFeedAbi, uniswapV3PoolAbi } from '../contracts-abi/index.js';
import type { DevnetAddresses } from '../src/devnet/deploy.js';
import { PROVIDER_ERRORS, TX_METHODS, type FaultHandle, type RpcProxy } from '../src/devnet/rpc-proxy.js';

export interface KeeperChild {
  readonly pid: number;
  readonly alive: boolean;
  /** Counts of the keeper's log events so far (all its lives). */
  readonly events: Record<string, number>;
  /** Resident set size now, MB (null when not running or not on Linux). */
  rssMb(): number | null;
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Start the real CLI keeper; stdout and stderr are appended to `logPath`. */
export function startKeeperChild(args: string[], env: Record<string, string>, logPath: string, events: Record<string, number> = {}): KeeperChild {
  const envFile = join(env['DATA_DIR'] ?? '.', 'empty.env');
  writeFileSync(envFile, '');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--env-file', envFile, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logPath, { flags: 'a' });
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    log.write(d);
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      const m = /"event":"([a-z_.]+)"/.exec(line);
      if (m?.[1]) events[m[1]] = (events[m[1]] ?? 0) + 1;
      // Nobody else signs on this key in the soak: any such claim is false.
      if (/did not send|used by another transaction/.test(line)) events['foreign nonce claimed'] = (events['foreign nonce claimed'] ?? 0) + 1;
    }
  });
  child.stderr?.on('data', (d: Buffer) => log.write(d));
  let alive = true;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      alive = false;
      log.end();
      resolve(code);
    }),
  );
  const pid = child.pid ?? -1;
  return {
    pid,
    events,
    get alive() {
      return alive;
    },
    rssMb() {
      try {
        const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        return kb ? Math.round(Number(kb) / 102.4) / 10 : null;
      } catch {
        return null;
      }
    },
    async kill9() {
      if (alive) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 20_000) {
      if (alive) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A fault the soak switches on for a while (or, for a kill, does once). */
export interface FaultPhase {
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** The chaos set, as phases over one proxy; `restart` kills the keeper with -9 and starts it again. */
export function faultPhases(proxy: RpcProxy, restart: () => Promise<void>): Record<string, FaultPhase> {
  let handles: FaultHandle[] = [];
  const injecting = (...rules: Parameters<RpcProxy['inject']>[0][]): FaultPhase => ({
    start: () => void (handles = rules.map((r) => proxy.inject(r))),
    stop: () => {
      for (const h of handles) h.remove();
      handles = [];
    },
  });
  const live = () => proxy.live();
  return {
    'frozen head (tx backend fresh)': { start: async () => void (await proxy.freezeHead({ fresh: TX_METHODS })), stop: live },
    'replica lagging 3 blocks': { start: () => proxy.lag(3, { fresh: TX_METHODS }), stop: live },
    'flapping replica (30% on one 4 blocks behind)': { start: () => proxy.lag(4, { probability: 0.3 }), stop: live },
    '30% provider errors, lost send answers': injecting(
      { methods: ['eth_sendRawTransaction'], fault: { kind: 'http', status: 502 }, probability: 0.3, afterForward: true },
      { fault: PROVIDER_ERRORS, probability: 0.3 },
    ),
    'rate limited (429, Retry-After 1)': injecting({ fault: { kind: 'http', status: 429, retryAfterSec: 1 }, probability: 0.4 }),
    'transaction lookups answer 500': injecting({ methods: ['eth_getTransactionReceipt', 'eth_getTransactionByHash'], fault: { kind: 'http', status: 500 } }),
    'hangs past the client timeout': injecting({ fault: { kind: 'hang', ms: 11_000 }, probability: 0.03 }),
    'sends swallowed (lying endpoint)': { start: () => proxy.swallowSends(true), stop: () => proxy.swallowSends(false) },
    'kill -9 and restart': { start: restart, stop: () => undefined },
  };
}

type Pc = PublicClient<Transport, Chain>;

async function logsInChunks(pc: Pc, address: Address, from: bigint, to: bigint) {
  const out = [];
  for (let a = from; a <= to; a += 5_000n) {
    const b = a + 4_999n > to ? to : a + 4_999n;
    out.push(...(await pc.getLogs({ address, fromBlock: a, toBlock: b })));
  }
  return out;
}

export interface JournalTx {
  nonce: number;
  hash: Hex;
  /** The block its intent was planned on (what the keeper had read when it decided). */
  plannedBlock: bigint | null;
}

/** The keeper's journaled transactions, read-only (after the keeper stopped). */
export function readJournalTxs(journalPath: string, account: Address): JournalTx[] {
  if (!existsSync(journalPath)) return [];
  const db = new Database(journalPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(`SELECT t.nonce AS nonce, t.hash AS hash, i.block AS block FROM txs t LEFT JOIN intents i ON i.id = t.intent_id WHERE t.account = ?`)
      .all(account.toLowerCase()) as Array<{ nonce: number; hash: Hex; block: string | null }>;
    return rows.map((r) => ({ nonce: r.nonce, hash: r.hash, plannedBlock: r.block === null ? null : BigInt(r.block) }));
  } finally {
    db.close();
  }
}

export interface ChainAudit {
  trades: number;
  priceChanges: number;
  /** Hedge trades planned with no price change (feed update or pool swap) since the previous trade was planned. */
  doubleSends: number;
  doubleSendBlocks: string[];
  liquidations: number;
}

/**
 * What reached the chain for `account` between two blocks. A trade counts as planned at its
 * intent's block (a hedge still pending when the market moves is followed by a legitimate
 * correction); one missing from the journal, at its own block (the nonce audit names it).
 */
export async function auditChain(pc: Pc, a: DevnetAddresses, account: Address, from: bigint, to: bigint, journal: readonly JournalTx[]): Promise<ChainAudit> {
  const mine = (x: { args: { account: Address } }) => x.args.account.toLowerCase() === account.toLowerCase();
  const perpLogs = await logsInChunks(pc, a.perp, from, to);
  const trades = parseEventLogs({ abi: perpExchangeAbi, eventName: 'Traded', logs: perpLogs }).filter(mine);
  const liquidations = parseEventLogs({ abi: perpExchangeAbi, eventName: 'Liquidated', logs: perpLogs }).filter(mine);
  const feed = parseEventLogs({ abi: priceFeedAbi, eventName: 'AnswerUpdated', logs: await logsInChunks(pc, a.ethUsdFeed, from, to) });
  const swaps = parseEventLogs({ abi: uniswapV3PoolAbi, eventName: 'Swap', logs: await logsInChunks(pc, a.uniswap.pool, from, to) });
  const changeBlocks = [...feed, ...swaps].map((l) => l.blockNumber).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const planned = new Map(journal.map((j) => [j.hash.toLowerCase(), j.plannedBlock]));
  const plans = trades
    .map((t) => ({ mined: t.blockNumber, plan: planned.get(t.transactionHash.toLowerCase()) ?? t.blockNumber }))
    .sort((x, y) => (x.plan < y.plan ? -1 : x.plan > y.plan ? 1 : 0));
  let doubleSends = 0;
  const doubleSendBlocks: string[] = [];
  for (let i = 1; i < plans.length; i++) {
    const [prev, cur] = [plans[i - 1]!, plans[i]!];
    // The read at block N includes block N: a change counts if it landed in (prev.plan, cur.plan].
    if (!changeBlocks.some((b) => b > prev.plan && b <= cur.plan)) {
      doubleSends++;
      doubleSendBlocks.push(cur.mined.toString());
    }
  }
  return { trades: trades.length, priceChanges: feed.length + swaps.length, doubleSends, doubleSendBlocks, liquidations: liquidations.length };
}

/** Nonces the account used between two counts that no journaled transaction of the keeper explains. */
export async function unexplainedNonces(pc: Pc, journal: readonly JournalTx[], fromNonce: number, toNonce: number): Promise<number[]> {
  const byNonce = new Map<number, Hex[]>();
  for (const r of journal) byNonce.set(r.nonce, [...(byNonce.get(r.nonce) ?? []), r.hash]);
  const missing: number[] = [];
  for (let n = fromNonce; n < toNonce; n++) {
    const receipts = await Promise.all((byNonce.get(n) ?? []).map((hash) => pc.getTransactionReceipt({ hash }).catch(() => null)));
    if (!receipts.some(Boolean)) missing.push(n);
  }
  return missing;
}

/** Bytes of a file and its SQLite companions (-wal, -shm). */
export function fileBytes(path: string, companions: readonly string[] = []): number {
  return [path, ...companions.map((c) => `${path}${c}`)].reduce((sum, p) => sum + (existsSync(p) ? statSync(p).size : 0), 0);
}
