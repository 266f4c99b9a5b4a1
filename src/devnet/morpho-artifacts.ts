import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Abi, Hex } from 'viem';

/**
 * Morpho Blue's real bytecode, compiled from the npm package `@morpho-org/morpho-blue` (it ships
 * Solidity only) with solc-js 0.8.19 and the repository's own build settings: via-IR, 999,999
 * optimizer runs, EVM paris, no metadata hash. The package's IrmMock (borrow APR = utilization)
 * is compiled with it: the only IRM the package ships.
 *
 * The compile takes about 90 s on two cores, so its output is cached in node_modules/.cache
 * (like the devnet dump) under a hash of every source and the settings, written atomically; a
 * lock file makes a parallel caller wait for the first compile instead of running a second one.
 * solc runs in a worker thread so the caller's event loop (a vitest worker's RPC) stays alive.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

export const MORPHO_SOLC_VERSION = '0.8.19';
export const MORPHO_PACKAGE = '@morpho-org/morpho-blue';

/** Full settings (bytecode) and an ABI-only variant (seconds, for scripts/build-contracts.ts). */
const OPTIMIZED = { viaIR: true, optimizer: { enabled: true, runs: 999_999 }, evmVersion: 'paris', metadata: { bytecodeHash: 'none' } } as const;
const ABI_ONLY = { optimizer: { enabled: false }, evmVersion: 'paris' } as const;

/** Contracts compiled from the package: output name -> source path inside the package. */
export const MORPHO_CONTRACTS = { Morpho: 'src/Morpho.sol', IrmMock: 'src/mocks/IrmMock.sol' } as const;
export type MorphoContractName = keyof typeof MORPHO_CONTRACTS;

export interface MorphoArtifact {
  abi: Abi;
  bytecode: Hex;
}
export type MorphoArtifacts = Record<MorphoContractName, MorphoArtifact>;

function packageDir(): string {
  return dirname(require.resolve(`${MORPHO_PACKAGE}/package.json`));
}

function solcPath(): string {
  const path = require.resolve('solc-0.8.19');
  const version = (require('solc-0.8.19/package.json') as { version: string }).version;
  if (version !== MORPHO_SOLC_VERSION) throw new Error(`solc-0.8.19 resolves to solc ${version}: Morpho Blue's build needs ${MORPHO_SOLC_VERSION}`);
  return path;
}

/** Every .sol file of the package (the import graph is within it), path relative to the package. */
function packageSources(): Record<string, string> {
  const dir = packageDir();
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = join(d, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.name.endsWith('.sol')) out[relative(dir, abs).split('\\').join('/')] = readFileSync(abs, 'utf8');
    }
  };
  walk(join(dir, 'src'));
  return out;
}

/** solc 0.8.19 leaves the events a contract emits from a library out of its ABI: Morpho's are EventsLib's. */
const EVENTS_LIB = { EventsLib: 'src/libraries/EventsLib.sol' } as const;

function standardInput(settings: object, selection: readonly string[], extra: Readonly<Record<string, string>> = {}): string {
  const all = packageSources();
  const targets = Object.entries({ ...MORPHO_CONTRACTS, ...extra });
  const sources = Object.fromEntries(targets.map(([, p]) => [p, { content: all[p] ?? '' }]));
  const outputSelection = Object.fromEntries(targets.map(([name, path]) => [path, { [name]: [...selection] }]));
  return JSON.stringify({ language: 'Solidity', sources, settings: { ...settings, outputSelection } });
}

// Plain CommonJS in a worker: solc-js's compile is synchronous and would block the caller for minutes.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const solc = require(workerData.solcPath);
const sources = workerData.sources;
const findImports = (p) => (p in sources ? { contents: sources[p] } : { error: 'not found: ' + p });
parentPort.postMessage(solc.compile(workerData.input, { import: findImports }));
`;

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: Abi; evm?: { bytecode?: { object?: string } } }>>;
}

async function compile(settings: object, selection: readonly string[], extra?: Readonly<Record<string, string>>): Promise<SolcOutput> {
  const workerData = { solcPath: solcPath(), sources: packageSources(), input: standardInput(settings, selection, extra) };
  const text = await new Promise<string>((ok, fail) => {
    const w = new Worker(WORKER, { eval: true, workerData });
    w.once('message', (m: string) => ok(m));
    w.once('error', fail);
    w.once('exit', (code) => fail(new Error(`solc worker exited (${code}) without output`)));
  });
  const out = JSON.parse(text) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc ${MORPHO_SOLC_VERSION}: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  return out;
}

function contractOf(out: SolcOutput, name: string): { abi: Abi; bytecode: string } {
  const path = (MORPHO_CONTRACTS as Record<string, string>)[name] ?? (EVENTS_LIB as Record<string, string>)[name] ?? '';
  const c = out.contracts?.[path]?.[name];
  if (!c) throw new Error(`solc returned no ${name}`);
  return { abi: c.abi, bytecode: c.evm?.bytecode?.object ?? '' };
}

/** The ABIs only (no optimizer: a few seconds), Morpho's with the events it emits; what contracts-abi/external/ checks in. */
export async function compileMorphoAbis(): Promise<Record<MorphoContractName, Abi>> {
  const out = await compile(ABI_ONLY, ['abi'], EVENTS_LIB);
  const events = contractOf(out, 'EventsLib').abi.filter((x) => x.type === 'event');
  return { Morpho: [...contractOf(out, 'Morpho').abi, ...events], IrmMock: contractOf(out, 'IrmMock').abi };
}

/** The cache key: solc version, settings and every source of the package. */
export function morphoCacheKey(): string {
  const h = createHash('sha256').update(MORPHO_SOLC_VERSION).update(JSON.stringify(OPTIMIZED));
  for (const [path, content] of Object.entries(packageSources())) h.update(path).update(content);
  return h.digest('hex').slice(0, 16);
}

export function defaultMorphoCacheDir(): string {
  return join(ROOT, 'node_modules', '.cache', 'keeper-morpho');
}

const LOCK_STALE_MS = 15 * 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the lock, or null while another live process holds it (a dead or very old holder's lock is broken). */
function tryLock(path: string): number | null {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, String(process.pid));
    return fd;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let holder = NaN;
    try {
      holder = Number(readFileSync(path, 'utf8'));
      if (Date.now() - statSync(path).mtimeMs > LOCK_STALE_MS || (Number.isInteger(holder) && holder > 0 && !pidAlive(holder))) unlinkSync(path);
    } catch {
      /* released meanwhile */
    }
    return null;
  }
}

/**
 * Morpho and IrmMock compiled with the repository's settings: from the cache when the sources
 * and settings are unchanged, else compiled (about 90 s) and cached. Parallel callers compile once.
 */
export async function ensureMorphoArtifacts(dir = defaultMorphoCacheDir()): Promise<MorphoArtifacts & { compiledMs?: number }> {
  const path = join(dir, `morpho-${morphoCacheKey()}.json`);
  const lockPath = join(dir, 'compile.lock');
  mkdirSync(dir, { recursive: true });
  for (;;) {
    if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as MorphoArtifacts;
    const fd = tryLock(lockPath);
    if (fd === null) {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as MorphoArtifacts;
      const t0 = performance.now();
      const out = await compile(OPTIMIZED, ['abi', 'evm.bytecode.object']);
      const compiledMs = performance.now() - t0;
      const artifacts = Object.fromEntries(
        (Object.keys(MORPHO_CONTRACTS) as MorphoContractName[]).map((name) => {
          const c = contractOf(out, name);
          if (c.bytecode === '') throw new Error(`solc returned no bytecode for ${name}`);
          return [name, { abi: c.abi, bytecode: `0x${c.bytecode}` }];
        }),
      ) as MorphoArtifacts;
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(artifacts));
      renameSync(tmp, path); // atomic: a waiting caller never reads half a file
      return { ...artifacts, compiledMs };
    } finally {
      closeSync(fd);
      try {
        unlinkSync(lockPath);
      } catch {
        /* broken by another process as stale */
      }
    }
  }
}
