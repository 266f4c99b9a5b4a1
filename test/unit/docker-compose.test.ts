import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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
  depends_on?: Record<string, { condition: string }> | string[];
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
    expect(Object.keys(services).sort()).toEqual(['anvil', 'grafana', 'keeper', 'keeper-dry-run', 'prometheus']);
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
    expect(Object.keys(volumes)).toEqual(['keeper-data', 'prometheus-data', 'grafana-data']);
    expect(keeper.environment?.['RPC_URLS']).toBe('http://anvil:8545');
    expect(compose({ RPC_URLS: 'https://mainnet.example' }).services['keeper']?.environment?.['RPC_URLS']).toBe('https://mainnet.example');
    expect((keeper.depends_on as Record<string, { condition: string }>)['anvil']?.condition).toBe('service_healthy');
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

  describe('the monitoring profile: Prometheus and Grafana over the keeper, loading monitoring/', () => {
    /** `./host:/container[:ro]` -> the host path (from the repository root) and the container path. */
    function mounts(service: Service): Map<string, string> {
      return new Map(
        (service.volumes ?? []).filter((v) => v.startsWith('./')).map((v) => {
          const [host, target] = v.split(':') as [string, string];
          return [target, host];
        }),
      );
    }
    const repoPath = (p: string) => new URL(p.replace(/^\.\//, ''), ROOT);

    it('both run only with --profile monitoring, publish on loopback, keep their data on volumes', () => {
      const { services } = compose();
      for (const name of ['prometheus', 'grafana']) {
        const s = services[name] as Service;
        expect(s.profiles).toEqual(['monitoring']);
        expect(s.image).toMatch(/^(prom\/prometheus|grafana\/grafana):v?\d+\.\d+\.\d+$/); // pinned, not :latest
        expect(s.ports?.every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
        expect(s.volumes?.some((v) => /^(prometheus|grafana)-data:/.test(v))).toBe(true);
        for (const v of s.volumes ?? []) if (v.startsWith('./')) expect(v.endsWith(':ro')).toBe(true);
      }
    });

    it('Prometheus loads monitoring/prometheus: the config it is started with, its rules, and a scrape of the keeper service', () => {
      const prom = compose().services['prometheus'] as Service;
      const configArg = prom.command?.find((c) => c.startsWith('--config.file='))?.split('=')[1] as string;
      const host = mounts(prom).get('/etc/prometheus') as string;
      expect(host).toBe('./monitoring/prometheus');
      expect(configArg.startsWith('/etc/prometheus/')).toBe(true);
      const config = parse(readFileSync(repoPath(`${host}/${configArg.slice('/etc/prometheus/'.length)}`), 'utf8')) as {
        rule_files: string[];
        scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
      };
      expect(config.rule_files).toEqual(['rules/*.yml']);
      expect(readdirSync(repoPath(`${host}/rules`)).filter((f) => f.endsWith('.yml'))).toEqual(['keeper-alerts.yml']);
      const job = config.scrape_configs.find((j) => j.job_name === 'keeper');
      // The compose service name and the keeper's default METRICS_PORT (what the keeper service listens on).
      expect(job?.static_configs[0]?.targets).toEqual([`keeper:${compose().services['keeper']?.environment?.['METRICS_PORT']}`]);
    });

    it('Grafana is provisioned with that Prometheus and the keeper dashboard', () => {
      const { services } = compose();
      const grafana = services['grafana'] as Service;
      const m = mounts(grafana);
      const provisioning = m.get('/etc/grafana/provisioning') as string;
      const datasources = parse(readFileSync(repoPath(`${provisioning}/datasources/prometheus.yml`), 'utf8')) as { datasources: Array<{ type: string; url: string; uid: string }> };
      const promPort = services['prometheus']?.ports?.[0]?.split(':').at(-1);
      expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: `http://prometheus:${promPort}`, uid: 'prometheus' })]);
      const providers = parse(readFileSync(repoPath(`${provisioning}/dashboards/keeper.yml`), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
      const dashboardsAt = providers.providers[0]?.options.path as string;
      const dashboardsHost = m.get(dashboardsAt);
      expect(dashboardsHost).toBe('./monitoring/grafana/dashboards');
      const home = grafana.environment?.['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH'] as string;
      expect(home.startsWith(`${dashboardsAt}/`)).toBe(true);
      const dashboard = JSON.parse(readFileSync(repoPath(`${dashboardsHost}/${home.slice(dashboardsAt.length + 1)}`), 'utf8')) as { uid: string };
      expect(dashboard.uid).toBe('delta-neutral-keeper');
      expect(grafana.depends_on).toEqual(['prometheus']);
      expect(grafana.environment?.['GF_SECURITY_ADMIN_PASSWORD']).toBe('admin');
      expect(compose({ GRAFANA_ADMIN_PASSWORD: 's3cret' }).services['grafana']?.environment?.['GF_SECURITY_ADMIN_PASSWORD']).toBe('s3cret');
    });
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
