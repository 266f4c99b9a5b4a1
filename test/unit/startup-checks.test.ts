import { chmodSync, existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startHealthServer } from '../../src/monitor/health-server.js';
import { createMetrics } from '../../src/monitor/metrics.js';
import { monitoringError, prepareDirectories, refuseIgnoredSettings } from '../../src/runner/preflight.js';

const KEY = `0x${'4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'}`;
const A1 = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

function problemsOf(f: () => void): string[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  return [];
}

describe('settings the embedded devnet would ignore', () => {
  it('a key, an addresses file or an address without RPC_URLS is refused, naming them, never showing the key', () => {
    const lines = problemsOf(() => refuseIgnoredSettings(loadConfig({ PRIVATE_KEY: KEY, ADDRESSES_FILE: './a.json', WETH: A1 })));
    expect(lines).toEqual([
      'RPC_URLS=(unset): PRIVATE_KEY, ADDRESSES_FILE, WETH are set, but with no RPC_URLS the keeper runs the embedded devnet and ignores them; set RPC_URLS, or unset PRIVATE_KEY, ADDRESSES_FILE, WETH for the demo',
    ]);
    expect(lines.join('')).not.toContain(KEY.slice(2, 20));
  });
  it('the demo (nothing chain-specific set) and a live configuration pass', () => {
    expect(problemsOf(() => refuseIgnoredSettings(loadConfig({ HEDGE_VENUE: 'aave' })))).toEqual([]);
    expect(problemsOf(() => refuseIgnoredSettings(loadConfig({ RPC_URLS: 'http://x', PRIVATE_KEY: KEY, ADDRESSES_FILE: 'a.json' })))).toEqual([]);
  });
});

describe('directories that cannot be created are named by their variable', () => {
  const root = mkdtempSync(join(tmpdir(), 'keeper-dirs-'));
  const blocker = join(root, 'a-file');
  writeFileSync(blocker, '');

  it('creates DATA_DIR and the journal directory, 0700', () => {
    const dataDir = join(root, 'data');
    const journalDir = join(root, 'j', 'k');
    prepareDirectories(loadConfig({ DATA_DIR: dataDir, JOURNAL_PATH: join(journalDir, 'journal.sqlite') }), { journal: true });
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(journalDir).mode & 0o777).toBe(0o700);
  });

  it('JOURNAL_PATH under a file', () => {
    const path = join(blocker, 'sub', 'journal.sqlite');
    const lines = problemsOf(() => prepareDirectories(loadConfig({ DATA_DIR: join(root, 'd2'), JOURNAL_PATH: path }), { journal: true }));
    expect(lines).toEqual([`JOURNAL_PATH=${path}: cannot create directory ${join(blocker, 'sub')} (ENOTDIR)`]);
  });

  it('the default journal (under DATA_DIR) is named by DATA_DIR; no journal directory in dry-run', () => {
    const dataDir = join(blocker, 'data');
    expect(problemsOf(() => prepareDirectories(loadConfig({ DATA_DIR: dataDir }), { journal: true }))).toEqual([
      `DATA_DIR=${dataDir}: cannot create directory ${dataDir} (ENOTDIR)`,
    ]);
    const journal = join(blocker, 'j', 'journal.sqlite');
    expect(problemsOf(() => prepareDirectories(loadConfig({ DATA_DIR: join(root, 'd3'), JOURNAL_PATH: journal }), { journal: false }))).toEqual([]);
    expect(existsSync(join(root, 'd3'))).toBe(true);
  });

  it.skipIf(process.getuid?.() === 0)('a directory the keeper cannot write in', () => {
    const ro = join(root, 'ro');
    prepareDirectories(loadConfig({ DATA_DIR: ro }), { journal: false });
    chmodSync(ro, 0o500);
    try {
      expect(problemsOf(() => prepareDirectories(loadConfig({ DATA_DIR: ro }), { journal: true }))).toEqual([`DATA_DIR=${ro}: cannot write in directory ${ro} (EACCES)`]);
    } finally {
      chmodSync(ro, 0o700);
    }
  });
});

describe('the metrics server cannot listen', () => {
  it('a port in use is named by METRICS_PORT and the host', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const config = loadConfig({ METRICS_PORT: String(port) });
      const err = await startHealthServer({ port, host: '127.0.0.1', metrics: createMetrics(), maxTickAgeSec: 60 }).then(
        async (s) => {
          await s.close();
          return null;
        },
        (e: unknown) => e,
      );
      const mapped = monitoringError(config, err);
      expect(mapped).toBeInstanceOf(ConfigError);
      expect((mapped as ConfigError).problems).toEqual([`METRICS_PORT=${port}: port in use on 127.0.0.1`]);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
  it('other errors pass through unchanged', () => {
    const err = new Error('boom');
    expect(monitoringError(loadConfig({}), err)).toBe(err);
  });
});
