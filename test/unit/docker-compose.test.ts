import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createMetrics } from '../../src/monitor/metrics.js';
import { startHealthServer, type HealthServer } from '../../src/monitor/health-server.js';
import type { TickResult } from '../../src/runner/tick.js';
import { Decimal } from 'decimal.js';

/**
 * No Docker engine here: the compose file is checked as data (YAML, with compose's variable
 * interpolation done the same way), and the commands in it are run where they can be: the
 * anvil entrypoint's shell logic with `echo` in place of anvil, the healthcheck against a real
 * /healthz.
 */

type Env = Record<string, string | undefined>;
interface Service {
  image?: string;
  build?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string;
  volumes?: string[];
  tmpfs?: string[];
  ports?: string[];
  restart?: string;
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; start_period?: string };
}

const ROOT = new URL('../../', import.meta.url);
const composeText = readFileSync(new URL('docker-compose.yml', ROOT), 'utf8');
const dockerfile = readFileSync(new URL('Dockerfile', ROOT), 'utf8');

/** Compose interpolation: `$$` is a literal `$`; `${VAR}`, `${VAR:-default}`, `${VAR-default}`. */
function interpolate(value: unknown, env: Env): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_]\w*)(?:(:?-)([^}]*))?\}|\$\{[^}]*\}/g, (m, name?: string, op?: string, def?: string) => {
      if (m === '$$') return '$';
      if (name === undefined) throw new Error(`interpolation this test does not model: ${m}`);
      const v = env[name];
      if (op === ':-') return v === undefined || v === '' ? (def ?? '') : v;
      if (op === '-') return v === undefined ? (def ?? '') : v;
      return v ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}

function compose(env: Env = {}): { services: Record<string, Service>; volumes: Record<string, unknown> } {
  return interpolate(parse(composeText, { merge: true }), env) as ReturnType<typeof compose>;
}

function tick(): TickResult {
  return {
    assessment: {
      blockNumber: 1n, priceE8: 2_000n * 10n ** 8n, poolPriceE8: 2_000n * 10n ** 8n, netDeltaWei: 0n, netDeltaUsd: new Decimal(0),
      deviationWei: 0n, bandWei: 0n, inBand: true, lpCount: 0, collateral: { ratio: new Decimal(1), distancePct: null },
    },
    results: [],
    state: { policy: { lastHedgeAtSec: null, safeMode: null } },
  } as unknown as TickResult;
}

describe('docker-compose.yml', () => {
  it('has the anvil fork, the keeper, and the dry-run service behind its profile', () => {
    const { services } = compose();
    expect(Object.keys(services).sort()).toEqual(['anvil', 'keeper', 'keeper-dry-run']);
    expect(services['anvil']?.image).toBe('ghcr.io/foundry-rs/foundry:latest');
    expect(services['anvil']?.profiles).toBeUndefined();
    expect(services['keeper']?.profiles).toBeUndefined();
    expect(services['keeper-dry-run']?.profiles).toEqual(['dry-run']);
  });

  it('anvil forks FORK_URL, pinned to FORK_BLOCK_NUMBER only when it is set', () => {
    const run = (env: Env) => {
      const anvil = compose(env).services['anvil'] as Service;
      const [shell, flag, script] = anvil.entrypoint ?? [];
      expect([shell, flag]).toEqual(['/bin/sh', '-c']);
      expect(script).toMatch(/exec anvil --host 0\.0\.0\.0 /);
      // The container's shell sees the service environment; echo stands in for anvil.
      const r = spawnSync('/bin/sh', ['-c', (script as string).replace('exec anvil', 'exec echo anvil')], {
        env: { PATH: process.env['PATH'], ...anvil.environment },
        encoding: 'utf8',
      });
      return { code: r.status, out: r.stdout.trim(), err: r.stderr };
    };
    expect(run({ FORK_URL: 'https://rpc.example/v2/key' })).toEqual({
      code: 0, out: 'anvil --host 0.0.0.0 --port 8545 --fork-url https://rpc.example/v2/key', err: '',
    });
    expect(run({ FORK_URL: 'https://rpc.example', FORK_BLOCK_NUMBER: '19000000' }).out).toBe(
      'anvil --host 0.0.0.0 --port 8545 --fork-url https://rpc.example --fork-block-number 19000000',
    );
    const missing = run({});
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('FORK_URL');
  });

  it('the keeper: .env, its data directory on a named volume, restart policy, RPC defaulting to the fork', () => {
    const { services, volumes } = compose();
    const keeper = services['keeper'] as Service;
    expect(keeper.build).toBe('.');
    expect(keeper.env_file).toBe('.env');
    expect(keeper.restart).toBe('unless-stopped');
    expect(keeper.command).toEqual(['run']);
    const dataDir = keeper.environment?.['DATA_DIR'];
    expect(dataDir).toBe('/data');
    expect(keeper.volumes).toEqual([`keeper-data:${dataDir}`]);
    expect(Object.keys(volumes)).toEqual(['keeper-data']);
    expect(keeper.environment?.['RPC_URLS']).toBe('http://anvil:8545');
    expect(compose({ RPC_URLS: 'https://mainnet.example' }).services['keeper']?.environment?.['RPC_URLS']).toBe('https://mainnet.example');
    expect(keeper.depends_on?.['anvil']?.condition).toBe('service_healthy');
    // The metrics server must listen beyond the container's loopback to be published.
    expect(keeper.environment?.['METRICS_HOST']).toBe('0.0.0.0');
    expect(keeper.ports).toEqual(['127.0.0.1:9464:9464']);
  });

  it('the image is Node 20 (slim) and runs the CLI through tsx', () => {
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThan(0);
    expect(froms.every((f) => f?.startsWith('node:20-slim'))).toBe(true);
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "--import", "tsx", "src/cli.ts"]');
    expect(dockerfile).toContain('ENV NODE_ENV=production');
  });

  it('the dry-run service runs run --dry-run=fork on a scratch data directory, once', () => {
    const dry = compose().services['keeper-dry-run'] as Service;
    expect(dry.command).toEqual(['run', '--dry-run=fork']);
    expect(dry.env_file).toBe('.env');
    expect(dry.restart).toBe('no');
    expect(dry.volumes).toEqual([]);
    expect(dry.tmpfs).toEqual(['/data']);
    expect(dry.environment?.['RPC_URLS']).toBe('http://anvil:8545');
    expect(dry.environment?.['METRICS_PORT']).toBe('');
  });

  describe('the keeper healthcheck probes /healthz on the configured port', () => {
    let server: HealthServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it.each(['9464', '9999'])('METRICS_PORT=%s: the probe URL uses the port the keeper is given', (port) => {
      const keeper = compose(port === '9464' ? {} : { METRICS_PORT: port }).services['keeper'] as Service;
      expect(keeper.environment?.['METRICS_PORT']).toBe(port);
      const [kind, cmd, flag, script] = keeper.healthcheck?.test ?? [];
      expect([kind, cmd, flag]).toEqual(['CMD', 'node', '-e']);
      expect(script).toContain(`http://127.0.0.1:${port}/healthz`);
      expect(keeper.healthcheck?.start_period).toBeDefined();
    });

    it('the probe command exits 0 on a fresh tick and 1 when stale or unreachable', async () => {
      let nowMs = 1_000_000;
      const metrics = createMetrics({ now: () => nowMs, processMetrics: false });
      server = await startHealthServer({ port: 0, metrics, maxTickAgeSec: 60, now: () => nowMs });
      // Asynchronous: the server answering the probe lives in this process.
      const probe = async () => {
        const keeper = compose({ METRICS_PORT: String(server?.port) }).services['keeper'] as Service;
        const [, cmd, flag, script] = keeper.healthcheck?.test ?? [];
        expect(cmd).toBe('node');
        const child = spawn(process.execPath, [flag as string, script as string], { stdio: 'ignore' });
        return new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      };
      expect(await probe()).toBe(1); // no tick yet
      metrics.tick(tick(), 1);
      expect(await probe()).toBe(0);
      nowMs += 61_000;
      expect(await probe()).toBe(1);
      await server.close();
      expect(await probe()).toBe(1);
    });
  });
});
