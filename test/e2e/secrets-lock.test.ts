import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/devnet/anvil.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { E8, addressesFileFor, setMarketPrice } from '../helpers/keeper.js';
import { runCli, startCli, waitForLine } from '../helpers/cli.js';

const PATH_KEY = 'SECRETKEY123';
const QUERY_KEY = 'SECRETQ';

/**
 * A hosted provider in miniature: serves `/v2/<key>?apikey=<key>` by forwarding the JSON-RPC
 * body to the devnet's anvil (the path is dropped), and answers HTTP 500 while `failing`.
 */
async function startProvider(upstream: string): Promise<{ url: string; origin: string; served: () => number; fail(on: boolean): void; close(): Promise<void> }> {
  let failing = false;
  let served = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failing) return void res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream unavailable');
      fetch(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) })
        .then(async (r) => {
          served++;
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: `${origin}/v2/${PATH_KEY}?apikey=${QUERY_KEY}`,
    origin,
    served: () => served,
    fail: (on) => void (failing = on),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function cliEnv(d: Devnet, rpcUrl: string, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    RPC_URLS: rpcUrl,
    PRIVATE_KEY: d.key('perpDemo'),
    ADDRESSES_FILE: addressesFileFor(d),
    TICK_MODE: 'interval',
    TICK_INTERVAL_MS: '200',
    COOLDOWN_SEC: '0',
    DATA_DIR: dataDir,
    ...extra,
  };
}

describe('the real CLI against an RPC URL with an API key in its path and query', () => {
  const devnet = useDevnet();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f();
  });

  it('hedges through it, survives its 500s, and no line or error ever shows the key', async () => {
    const d = devnet();
    const provider = await startProvider(d.rpcUrl);
    cleanup.push(provider.close);
    const dataDir = join(mkdtempSync(join(tmpdir(), 'keeper-keyurl-')), 'data');
    await setMarketPrice(d, 1_900n * E8); // a hedge to send: signed raw transactions go through the provider
    const run = startCli(['run', '--adopt-history', '--max-ticks', '12'], cliEnv(d, provider.url, dataDir, { LOG_LEVEL: 'trace' }));
    cleanup.push(() => void run.child.kill('SIGKILL'));
    await waitForLine(run.child, (l) => l['event'] === 'tx.mined');
    provider.fail(true); // the provider errs for a while: viem's error text quotes URL and body
    await waitForLine(run.child, (l) => l['event'] === 'tick.failed' || l['event'] === 'rpc.failed');
    provider.fail(false);
    const done = await run.done;

    const all = done.stdout + done.stderr;
    expect(provider.served()).toBeGreaterThan(5);
    expect(done.lines.some((l) => l['event'] === 'tx.sent')).toBe(true);
    expect(done.lines.some((l) => ['tick.failed', 'rpc.failed'].includes(String(l['event'])))).toBe(true);
    expect(all).toContain(provider.origin); // shown, by origin
    expect(all).not.toContain(PATH_KEY);
    expect(all).not.toContain(QUERY_KEY);
    expect(all).not.toMatch(/0x0?2?f[89][0-9a-f]{180}/i); // no signed transaction, even at trace

    // DATA_DIR was created by the keeper: owner-only, like the journal in it.
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'journal.sqlite')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dataDir, 'journal.sqlite')).toString('latin1')).not.toContain(PATH_KEY);
  });

  it('an unreachable keyed URL: the start-up error names the origin, not the key', async () => {
    const d = devnet();
    const dead = `http://127.0.0.1:${await freePort()}/v2/${PATH_KEY}?apikey=${QUERY_KEY}`;
    const run = await runCli(['run', '--max-ticks', '1'], cliEnv(d, dead, mkdtempSync(join(tmpdir(), 'keeper-dead-'))));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach ${new URL(dead).origin}`);
    expect(run.stdout + run.stderr).not.toContain(PATH_KEY);
    expect(run.stdout + run.stderr).not.toContain(QUERY_KEY);
  });
});

describe('one keeper per journal, through the CLI', () => {
  const devnet = useDevnet();

  it('a second keeper on the same DATA_DIR refuses naming the first; after kill -9 of the first, a restart runs', async () => {
    const d = devnet();
    const dataDir = mkdtempSync(join(tmpdir(), 'keeper-two-'));
    const first = startCli(['run', '--adopt-history'], cliEnv(d, d.rpcUrl, dataDir));
    try {
      await waitForLine(first.child, (l) => l['event'] === 'keeper.started');
      const second = await runCli(['run', '--adopt-history', '--max-ticks', '1'], cliEnv(d, d.rpcUrl, dataDir));
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`another keeper holds this journal \\(pid ${first.child.pid} on host \\S+, since \\d{4}-`));
      expect(second.lines.filter((l) => String(l['event']).startsWith('tx.'))).toEqual([]);
    } finally {
      first.child.kill('SIGKILL');
      await first.done;
    }
    const restarted = await runCli(['run', '--max-ticks', '1'], cliEnv(d, d.rpcUrl, dataDir));
    expect(restarted.stderr).not.toContain('another keeper');
    expect(restarted.lines.some((l) => l['event'] === 'keeper.started')).toBe(true);
  });

  it('this run marks its anvils, so the orphan check (test/global-setup.ts) counts only ours', () => {
    const d = devnet();
    const marker = process.env['KEEPER_TEST_RUN_ID'];
    expect(marker).toMatch(/^\d+-[0-9a-f]{12}$/);
    const environ = readFileSync(`/proc/${d.anvil.pid}/environ`, 'latin1').split('\0');
    expect(environ).toContain(`KEEPER_TEST_RUN_ID=${marker}`);
  });
});
