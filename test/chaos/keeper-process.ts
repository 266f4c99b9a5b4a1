import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startCli, type CliRun } from '../helpers/cli.js';
import { addressesFileFor, keeperOn, type TestKeeper } from '../helpers/keeper.js';
import type { Devnet } from '../helpers/devnet.js';
import type { RpcProxy } from '../../src/devnet/rpc-proxy.js';

export type Line = Record<string, unknown>;

/** The real CLI keeper as a child process, its stdout lines readable while it runs. */
export interface KeeperProcess {
  readonly pid: number;
  /** Every JSON line printed so far. */
  lines(): Line[];
  /** Resolve with the first line (already printed or to come; from index `since` on) that matches. */
  waitForLine(match: (l: Line) => boolean, what: string, timeoutMs?: number, since?: number): Promise<Line>;
  readonly exited: boolean;
  readonly done: Promise<CliRun>;
  /** kill -9: no handler runs, nothing is flushed. */
  kill9(): Promise<CliRun>;
  /** SIGTERM (finish the tick, then exit); SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<CliRun>;
}

/** The environment of a keeper on the perp demo account, talking to `rpcUrl` only. */
export function keeperEnv(d: Devnet, dataDir: string, rpcUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    RPC_URLS: rpcUrl,
    PRIVATE_KEY: d.key('perpDemo'),
    ADDRESSES_FILE: addressesFileFor(d),
    TICK_MODE: 'interval',
    TICK_INTERVAL_MS: '200',
    COOLDOWN_SEC: '0',
    // A fixed band: one price move then needs exactly one hedge (the adaptive default narrows
    // once it has a volatility estimate, which can split a move's hedge in two).
    BAND_MODE: 'fixed',
    MAX_NOTIONAL_PER_DAY_USD: '100000000',
    DATA_DIR: dataDir,
    ...extra,
  };
}

export const newDataDir = (what: string) => mkdtempSync(join(tmpdir(), `keeper-${what}-`));

/** Keepers still running when this process exits (a failed test, a crashed worker) die with it. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export function startKeeper(args: string[], env: Record<string, string>): KeeperProcess {
  const { child, done } = startCli(args, env);
  running.add(child);
  void done.then(() => running.delete(child));
  const seen: Line[] = [];
  const waiters = new Set<{ match: (l: Line) => boolean; resolve: (l: Line) => void }>();
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    for (const text of parts) {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue;
      }
      seen.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  let exited = false;
  void done.then(() => (exited = true));
  const pid = child.pid ?? -1;
  return {
    pid,
    lines: () => seen,
    get exited() {
      return exited;
    },
    done,
    waitForLine(match, what, timeoutMs = 45_000, since = 0) {
      const already = seen.slice(since).find(match);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const w = { match, resolve: (l: Line) => (clearTimeout(timer), resolve(l)) };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`keeper pid ${pid}: no log line "${what}" within ${timeoutMs} ms; last lines: ${tail(seen)}`));
        }, timeoutMs);
        waiters.add(w);
        void done.then((r) => {
          if (!waiters.has(w)) return;
          waiters.delete(w);
          clearTimeout(timer);
          reject(new Error(`keeper pid ${pid} exited (code ${r.code}, ${r.signal}) before "${what}": ${r.stderr.slice(-1_500)} ${tail(seen)}`));
        });
      });
    },
    async kill9() {
      if (!exited) child.kill('SIGKILL');
      return done;
    },
    async stop(graceMs = 15_000) {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const r = await done;
      clearTimeout(timer);
      return r;
    },
  };
}

function tail(lines: Line[]): string {
  return lines
    .slice(-8)
    .map((l) => `${String(l['event'])}: ${String(l['msg'] ?? '')}`.slice(0, 240))
    .join(' | ');
}

/** Snapshot reads through a proxy: each one a chance for the keeper to act. */
export const reads = (p: RpcProxy): number => p.stats().requests['eth_call'] ?? 0;

/** Requests by which a keeper learns the head: it had a chance to act on what they said. */
export const headReads = (p: RpcProxy): number => (p.stats().requests['eth_blockNumber'] ?? 0) + (p.stats().requests['eth_getBlockByNumber'] ?? 0);

/** A line at warn level or above (pino's numbers or their labels). */
export const isWarning = (l: Line): boolean => ['warn', 'error', 'fatal'].includes(String(l['level'])) || Number(l['level']) >= 40;

/** Poll a condition (never a fixed sleep): fail naming what was awaited (and what the keepers said last). */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 45_000,
  pollMs = 50,
  keepers: readonly KeeperProcess[] = [],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) {
      const said = keepers.map((k) => `\n  keeper pid ${k.pid}${k.exited ? ' (exited)' : ''}: ${tail(k.lines())}`).join('');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${said}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export interface JournalTx {
  intentId: number;
  label: string;
  nonce: number;
  hash: string;
  status: string;
  block: string | null;
}
export interface JournalIntent {
  id: number;
  kind: string;
  status: string;
  detail: string | null;
}

/** The journal's rows, read-only (call once the keeper has exited: it holds the file). */
export function readJournal(path: string): { txs: JournalTx[]; intents: JournalIntent[] } {
  if (!existsSync(path)) return { txs: [], intents: [] };
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const has = (t: string) => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(t) !== undefined;
    const txs = has('txs')
      ? (db.prepare(`SELECT intent_id AS intentId, label, nonce, hash, status, block FROM txs ORDER BY id`).all() as JournalTx[])
      : [];
    const intents = has('intents') ? (db.prepare(`SELECT id, kind, status, detail FROM intents ORDER BY id`).all() as JournalIntent[]) : [];
    return { txs, intents };
  } finally {
    db.close();
  }
}

/** Journal rows that reached the chain (mined or reverted): each one spent a nonce. */
export const onChain = (txs: JournalTx[]) => txs.filter((t) => t.status === 'mined' || t.status === 'reverted');

/**
 * An independent judge of the final state: a dry-run keeper (no journal, sends nothing) reading
 * the real chain directly.
 */
export async function judge(d: Devnet): Promise<TestKeeper> {
  return keeperOn(d, { LOG_LEVEL: 'warn', BAND_MODE: 'fixed' }, { dryRun: true });
}
