import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createTestClient, http } from 'viem';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilInstance, type AnvilOptions } from './anvil.js';
import { deployDevnet, type DevnetAddresses } from './deploy.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Everything whose change makes a cached dump stale (what runs on the chain, not around it). */
const SOURCES = ['contracts-abi', 'src/devnet', 'package-lock.json'];
const NOT_DEPLOY_CODE = new Set(['src/devnet/market-driver.ts', 'src/devnet/price-path.ts', 'src/devnet/serve.ts', 'src/devnet/state.ts']);

function hashSources(): string {
  const h = createHash('sha256');
  const walk = (p: string): void => {
    const abs = join(ROOT, p);
    if (!existsSync(abs)) return;
    if (NOT_DEPLOY_CODE.has(p)) return;
    if (p.endsWith('.json') || p.endsWith('.ts')) {
      h.update(p).update(readFileSync(abs));
      return;
    }
    for (const entry of readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() || entry.name.endsWith('.ts') || entry.name.endsWith('.json')) walk(join(p, entry.name));
    }
  };
  SOURCES.forEach(walk);
  return h.digest('hex').slice(0, 16);
}

export interface DevnetState {
  /** anvil JSON state, loadable with `--load-state`. */
  statePath: string;
  addresses: DevnetAddresses;
}

/** Default cache for the deployed devnet: inside node_modules, so a clean clone rebuilds it. */
export function defaultStateDir(): string {
  return join(ROOT, 'node_modules', '.cache', 'keeper-devnet');
}

/** Dump a running anvil's state to a JSON file `--load-state` accepts. */
export async function dumpAnvilState(rpcUrl: string, path: string): Promise<void> {
  const test = createTestClient({ mode: 'anvil', chain: foundry, transport: http(rpcUrl) });
  const hex = await test.dumpState();
  const raw = Buffer.from(hex.slice(2), 'hex');
  const json = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, json);
  renameSync(tmp, path); // atomic: a parallel reader never sees half a dump
}

/**
 * Return a dump of the fully deployed devnet, deploying it on a scratch anvil only when the
 * cached one is missing or was made from other sources.
 */
export async function ensureDevnetState(dir = defaultStateDir()): Promise<DevnetState & { deployedMs?: number }> {
  const key = hashSources();
  const statePath = join(dir, `devnet-${key}.json`);
  const addressesPath = join(dir, `devnet-${key}.addresses.json`);
  if (existsSync(statePath) && existsSync(addressesPath)) {
    return { statePath, addresses: parseAddresses(readFileSync(addressesPath, 'utf8')) };
  }
  removeStaleDumps(dir, key);
  const anvil = await startAnvil();
  try {
    const t0 = performance.now();
    const addresses = await deployDevnet(anvil.rpcUrl);
    const deployedMs = performance.now() - t0;
    await dumpAnvilState(anvil.rpcUrl, statePath);
    writeFileSync(addressesPath, serializeAddresses(addresses));
    return { statePath, addresses, deployedMs };
  } finally {
    await anvil.stop();
  }
}

/** Dumps of other sources are dead weight (~4 MB each): keep only the current key's. */
function removeStaleDumps(dir: string, key: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name.startsWith('devnet-') && !name.startsWith(`devnet-${key}`)) {
      try {
        unlinkSync(join(dir, name));
      } catch {
        /* a parallel run may have removed it */
      }
    }
  }
}

/** Start an anvil already holding the deployed devnet. */
export async function startDevnetFromState(
  state: DevnetState,
  opts: Omit<AnvilOptions, 'loadStatePath'> = {},
): Promise<AnvilInstance> {
  return startAnvil({ ...opts, loadStatePath: state.statePath });
}

export function serializeAddresses(a: DevnetAddresses): string {
  return JSON.stringify(a, null, 2) + '\n';
}

export function parseAddresses(text: string): DevnetAddresses {
  return JSON.parse(text) as DevnetAddresses;
}
