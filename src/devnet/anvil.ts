import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

/** A running anvil process. `stop()` is idempotent and always kills the process. */
export interface AnvilInstance {
  readonly rpcUrl: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface AnvilOptions {
  /** Fork this RPC (our stand-in for a mainnet fork). */
  forkUrl?: string;
  forkBlockNumber?: bigint;
  /** Load a state dump written by `anvil --dump-state` / `anvil_dumpState`. */
  loadStatePath?: string;
  /** Seconds between blocks; omitted = automine. */
  blockTimeSec?: number;
  chainId?: number;
  /** Extra raw CLI arguments. */
  args?: string[];
  /** A fixed port (e.g. for `npm run devnet`); omitted = a free port is picked. */
  port?: number;
  /** Milliseconds to wait for the RPC to answer. */
  startTimeoutMs?: number;
}

const live = new Set<ChildProcess>();
let exitHooked = false;

/** Kill every anvil this process started, synchronously (for exit handlers). */
export function killAllAnvils(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

function hookProcessExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', killAllAnvils);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      // When someone else handles the signal (the keeper's graceful stop), they stop their
      // anvils in order and the 'exit' hook catches the rest; otherwise die as the signal says.
      if (process.listenerCount(signal) > 0) return;
      killAllAnvils();
      process.kill(process.pid, signal);
    });
  }
}

/** Path of the anvil binary shipped by the npm package `@foundry-rs/anvil`. */
export function anvilBinary(): string {
  if (process.env['ANVIL_BIN']) return process.env['ANVIL_BIN'];
  const require = createRequire(import.meta.url);
  const platform = `${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${platform}/package.json`);
    const bin = join(dirname(pkg), 'bin', 'anvil');
    if (existsSync(bin)) return bin;
  } catch {
    /* fall through */
  }
  const wrapper = join(dirname(require.resolve('@foundry-rs/anvil/package.json')), 'bin.mjs');
  if (existsSync(wrapper)) return wrapper;
  throw new Error(
    `anvil binary not found for ${platform}: install the npm package @foundry-rs/anvil (npm ci) or set ANVIL_BIN`,
  );
}

/** Ask the OS for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function rpcAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

function buildArgs(port: number, opts: AnvilOptions): string[] {
  const args = ['--host', '127.0.0.1', '--port', String(port), '--silent'];
  if (opts.chainId !== undefined) args.push('--chain-id', String(opts.chainId));
  if (opts.forkUrl) args.push('--fork-url', opts.forkUrl);
  if (opts.forkBlockNumber !== undefined) args.push('--fork-block-number', opts.forkBlockNumber.toString());
  if (opts.loadStatePath) args.push('--load-state', opts.loadStatePath);
  if (opts.blockTimeSec !== undefined) args.push('--block-time', String(opts.blockTimeSec));
  if (opts.args) args.push(...opts.args);
  return args;
}

async function spawnOnce(port: number, opts: AnvilOptions): Promise<AnvilInstance> {
  // Own process group: a Ctrl-C in the terminal reaches us, not anvil, so a keeper can finish
  // its in-flight transaction before its chain goes away.
  // The environment passes through on purpose: a test run's marker (test/global-setup.ts) tells
  // that run's anvils from any other checkout's when it looks for orphans.
  const child = spawn(anvilBinary(), buildArgs(port, opts), { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: process.env });
  live.add(child);
  hookProcessExit();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('exit', () => live.delete(child));

  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  let dead = false;
  void exited.then(() => (dead = true));
  while (!(await rpcAnswers(rpcUrl))) {
    if (dead) throw new Error(`anvil exited before answering on port ${port}: ${stderr.trim() || 'no output'}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`anvil did not answer on ${rpcUrl} within ${opts.startTimeoutMs ?? 30_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  let stopped: Promise<void> | undefined;
  return {
    rpcUrl,
    port,
    pid: child.pid ?? -1,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
          await exited;
          clearTimeout(timer);
        }
        live.delete(child);
      })();
      return stopped;
    },
  };
}

/**
 * Start anvil on a free loopback port and wait until it answers JSON-RPC.
 * A port race with another process is retried with a new port.
 */
export async function startAnvil(opts: AnvilOptions = {}): Promise<AnvilInstance> {
  if (opts.port !== undefined) return spawnOnce(opts.port, opts);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await spawnOnce(port, opts);
    } catch (err) {
      lastError = err;
      if (!String(err).includes('exited before answering')) throw err;
    }
  }
  throw new Error('anvil failed to start after 3 attempts', { cause: lastError });
}
