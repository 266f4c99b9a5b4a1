import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * Running it for real: deploy/keeper.service read as systemd reads it (sections of `Key=value`,
 * a key may repeat) and checked by systemd-analyze when the host has it; the licence and the
 * files the tools write into a checkout.
 */

const path = new URL('../../deploy/keeper.service', import.meta.url);
const text = readFileSync(path, 'utf8');

function unit(source: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`keeper.service: not a Key=value line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const service = unit(text).get('Service') as Map<string, string[]>;
const one = (key: string) => service.get(key)?.at(-1);
const environment = new Map((service.get('Environment') ?? []).map((e) => e.split('=', 2) as [string, string]));

describe('deploy/keeper.service', () => {
  it('runs the keeper CLI as an unprivileged user with an environment file', () => {
    expect(one('ExecStart')).toBe('/usr/bin/node --import tsx src/cli.ts run');
    // The same command as the image's entrypoint.
    expect(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8')).toContain('ENTRYPOINT ["node", "--import", "tsx", "src/cli.ts"]');
    expect(one('User')).toBe('keeper');
    expect(one('EnvironmentFile')).toBe('/etc/keeper/keeper.env');
    expect(environment.get('LOG_FORMAT')).toBe('json');
  });

  it('restarts after a failure but not after a bad configuration (the CLI exits 2), and stops gracefully', () => {
    expect(one('Restart')).toBe('on-failure');
    expect(Number.parseInt(one('RestartSec') ?? '', 10)).toBeGreaterThan(0);
    expect(one('RestartPreventExitStatus')).toBe('2');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(one('KillMode')).toBe('mixed');
    // Longer than a tick plus a transaction's confirmation on a slow chain.
    expect(Number.parseInt(one('TimeoutStopSec') ?? '', 10)).toBeGreaterThanOrEqual(60);
    expect(unit(text).get('Unit')?.get('StartLimitBurst')).toBeDefined();
  });

  it('is hardened, and DATA_DIR is the only writable path', () => {
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['PrivateDevices', 'yes'],
      ['RestrictSUIDSGID', 'yes'], ['CapabilityBoundingSet', ''], ['UMask', '0077'],
    ] as const) {
      expect(one(key), key).toBe(value);
    }
    const dataDir = environment.get('DATA_DIR');
    expect(dataDir).toBe('/var/lib/keeper');
    expect(service.get('ReadWritePaths')).toEqual([dataDir]);
    expect(`/var/lib/${one('StateDirectory')}`).toBe(dataDir);
    // V8's JIT writes executable memory: this one would kill the process at start.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
  });

  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!analyze)('systemd-analyze verify accepts it', () => {
    const r = spawnSync('systemd-analyze', ['verify', path.pathname], { encoding: 'utf8' });
    // Only the host can lack the node binary the unit names; anything else is the unit's fault.
    const problems = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() && !/\/usr\/bin\/node is not executable/.test(l));
    expect(problems).toEqual([]);
  });
});

describe('what a user reads before running it', () => {
  const root = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

  it('LICENSE is the MIT licence the README and package.json state', () => {
    expect(root('LICENSE')).toMatch(/^MIT License\n/);
    expect(root('LICENSE')).toContain('Permission is hereby granted, free of charge');
    expect((JSON.parse(root('package.json')) as { license: string }).license).toBe('MIT');
    expect(root('README.md')).toContain('Our code is MIT');
  });

  it('what `npm run devnet` and `keeper keystore new` write in the checkout is git-ignored', () => {
    const ignored = root('.gitignore').split('\n').map((l) => l.trim());
    expect(ignored).toContain('devnet.addresses.json');
    expect(ignored).toContain('keystore.json');
  });
});
