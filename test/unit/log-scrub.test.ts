import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, http, keccak256, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { configSummary, loadConfig } from '../../src/config.js';
import { freePort } from '../../src/devnet/anvil.js';
import { createLogger, scrubText, type LogFormat } from '../../src/monitor/logger.js';
import { rawTxBytes } from '../../src/monitor/scrub.js';

const KEY = 'SECRETKEY123';
const QKEY = 'SECRETQ';
const account = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');

function capture(opts: { rpcUrls?: string[]; format?: LogFormat; level?: 'info' | 'debug'; onLine?: (l: string) => void } = {}) {
  const chunks: string[] = [];
  const destination = { write: (s: string) => void chunks.push(s) };
  const logger = createLogger({ format: opts.format ?? 'json', level: opts.level ?? 'debug', destination, rpcUrls: opts.rpcUrls, onLine: opts.onLine });
  return { logger, text: () => chunks.join('') };
}

async function viemError(url: string): Promise<Error> {
  const client = createPublicClient({ transport: http(url, { retryCount: 0 }) });
  const raw = await account.signTransaction({ chainId: 1, type: 'eip1559', to: account.address, value: 1n, nonce: 0, gas: 21_000n, maxFeePerGas: 10n ** 9n, maxPriorityFeePerGas: 1n });
  try {
    await client.sendRawTransaction({ serializedTransaction: raw });
  } catch (err) {
    return err as Error;
  }
  throw new Error(`expected ${url} to fail`);
}

describe('secrets in log lines: RPC URLs by origin only', () => {
  let server: Server;
  let port500: number;
  beforeAll(async () => {
    // A provider that refuses (500), quoting nothing: viem's error text still quotes the URL and the body.
    server = createServer((_req, res) => res.writeHead(500).end('internal error'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port500 = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('a viem HttpRequestError (refused connection and HTTP 500) in tick.failed and rpc.failed comes out clean', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/v2/${KEY}?apikey=${QKEY}`;
    const failing = `http://127.0.0.1:${port500}/v2/${KEY}?apikey=${QKEY}`;
    const alerts: string[] = [];
    const { logger, text } = capture({ rpcUrls: [dead, failing], onLine: (l) => alerts.push(l) });
    for (const url of [dead, failing]) {
      const err = await viemError(url);
      expect(err.message).toContain(KEY); // viem quotes it: the logger is what stands between
      logger.error({ event: 'tick.failed', err }, `tick failed: ${err.message}`);
      logger.warn({ event: 'rpc.failed', url, err: new Error('wrapped', { cause: err }) }, `rpc ${url} failed`);
    }
    const out = text();
    expect(out).not.toContain(KEY);
    expect(out).not.toContain(QKEY);
    expect(out).toContain(`URL: http://127.0.0.1:${port500}`);
    expect(out).toMatch(/<raw tx \d+ bytes>/); // the request body of eth_sendRawTransaction
    expect(alerts.join('')).not.toContain(KEY);
    for (const line of out.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('any URL on a configured origin or carrying a configured key, user info and webhook tokens', () => {
    const rpc = `https://user:p4ssw0rd-long@eth.example.com/rpc/${KEY}`;
    const hook = 'https://hooks.slack.com/services/T0000/B0000/abcdefghijklmnopqrstuvwx';
    const { logger, text } = capture({ rpcUrls: [rpc, hook] });
    logger.info({ event: 'x', proxied: `https://other.example.net/forward/${KEY}/more`, same: 'https://eth.example.com/another/path?k=1' }, `via wss://eth.example.com/ws/${KEY}. done`);
    logger.info({ event: 'y', hook }, `bare key ${KEY}; password p4ssw0rd-long; webhook ${hook}`);
    const out = text();
    for (const secret of [KEY, 'p4ssw0rd-long', 'abcdefghijklmnopqrstuvwx', 'another/path']) expect(out).not.toContain(secret);
    expect(out).toContain('wss://eth.example.com. done'); // sentence punctuation kept
    expect(out).toContain('https://other.example.net"');
    expect(out).toContain('https://hooks.slack.com');
  });

  it('leaves other URLs, short path words, hashes and addresses alone', () => {
    const { logger, text } = capture({ rpcUrls: ['https://rpc.example.com/v2/mainnet'] });
    const hash = keccak256('0x1234');
    logger.info({ event: 'x', docs: 'https://docs.example.org/v2/guide', hash, to: account.address }, 'see v2 on mainnet');
    const line = JSON.parse(text()) as Record<string, unknown>;
    expect(line).toMatchObject({ docs: 'https://docs.example.org/v2/guide', hash, to: account.address, msg: 'see v2 on mainnet' });
  });

  it('signed raw transactions (typed and legacy) become <raw tx N bytes>, at every level', async () => {
    const typed = await account.signTransaction({ chainId: 1, type: 'eip1559', to: account.address, value: 5n, nonce: 7, gas: 90_000n, maxFeePerGas: 3n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n, data: `0x${'ab'.repeat(68)}` });
    const legacy = await account.signTransaction({ chainId: 1, type: 'legacy', to: account.address, value: 1n, nonce: 0, gas: 21_000n, gasPrice: 10n ** 9n });
    const bytes = (h: Hex) => (h.length - 2) / 2;
    expect(rawTxBytes(typed)).toBe(bytes(typed));
    expect(rawTxBytes(legacy)).toBe(bytes(legacy));
    expect(rawTxBytes(keccak256(typed))).toBeNull();
    const { logger, text } = capture();
    logger.error({ event: 'tick.failed', err: new Error(`send failed: ${typed}`), txs: [{ raw: legacy, hash: keccak256(legacy) }] }, `tick failed: ${typed}`);
    logger.debug({ event: 'tx.signed', raw: typed }, 'signed');
    const out = text();
    expect(out).not.toContain(typed.slice(2, 60));
    expect(out).not.toContain(legacy.slice(2, 60));
    expect(out).toContain(`<raw tx ${bytes(typed)} bytes>`);
    expect(out).toContain(`<raw tx ${bytes(legacy)} bytes>`);
    expect(out).toContain(keccak256(legacy));
  });

  it('scrubText (the CLI error path) does the same to plain text', () => {
    const url = `https://eth-mainnet.example.com/v2/${KEY}`;
    const text = `keeper: RPC_URLS: cannot reach ${url} (HTTP request failed. URL: ${url}) (cause: fetch failed for ${url}/)`;
    const out = scrubText(text, [url, '']);
    expect(out).not.toContain(KEY);
    expect(out).toContain('cannot reach https://eth-mainnet.example.com (HTTP');
    expect(scrubText('RPC_URLS=htp:/bad/SECRETKEY999: expected', ['htp:/bad/SECRETKEY999'])).toBe('RPC_URLS=<redacted>: expected');
  });
});

describe('logs a person reads', () => {
  const tickFields = {
    event: 'tick', block: 123n, price: '$2000.00', poolPrice: '$2001.37', deltaEth: '1.2345 ETH', deltaUsd: '2469.00', deviationEth: '1.2345 ETH',
    bandEth: '0.5000 ETH', inBand: false, hedgeEth: '-10.0000 ETH', marginRatio: '0.2500', liqPrice: '$2600.00', liqDistancePct: '30.00',
    volAnnual: '0.61', safeMode: null, decision: 'adjustHedge',
  };

  it('in a terminal the tick line is short: price, delta, ratio, decision; every field at debug; JSON complete', () => {
    const url = `https://eth.example.com/v2/${KEY}`;
    const pretty = capture({ format: 'pretty', level: 'info', rpcUrls: [url] });
    pretty.logger.info(tickFields, 'tick 123: adjustHedge');
    pretty.logger.warn({ event: 'rpc.failed', err: new Error(`HTTP request failed.\n\nURL: ${url}`) }, 'rpc failed');
    const [tickLine, rpcLine] = pretty.text().trimEnd().split('\n');
    expect(tickLine).toMatch(/^\d\d:\d\d:\d\d INFO {2}tick 123 {2}\$2000\.00 {2}delta \+1\.2345 ETH \(band 0\.5000\) {2}ratio 0\.2500 {2}adjustHedge$/);
    expect(rpcLine).toMatch(/WARN  rpc failed: HTTP request failed\.$/);
    expect(pretty.text()).not.toContain(KEY);

    const debug = capture({ format: 'pretty', level: 'debug' });
    debug.logger.info(tickFields, 'tick 123: adjustHedge');
    expect(debug.text()).toContain('poolPrice=$2001.37');
    expect(debug.text()).toContain('liqDistancePct=30.00');

    const json = capture({ format: 'json', level: 'info' });
    json.logger.info(tickFields, 'tick 123: adjustHedge');
    const line = JSON.parse(json.text()) as Record<string, unknown>;
    for (const [k, v] of Object.entries(tickFields)) expect(line[k]).toEqual(typeof v === 'bigint' ? v.toString() : v);
  });

  it('safe mode shows on the tick line; the start-up configuration is a few lines', () => {
    const config = loadConfig({
      RPC_URLS: `https://eth-mainnet.example.com/v2/${KEY}`,
      PRIVATE_KEY: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
      ADDRESSES_FILE: 'addresses.json',
    });
    const pretty = capture({ format: 'pretty', level: 'info', rpcUrls: [...config.chain.rpcUrls] });
    pretty.logger.info({ ...tickFields, decision: 'hold', safeMode: 'oracle stale (3700 s)' }, 'tick 123: hold');
    pretty.logger.info({ event: 'keeper.started', config: configSummary(config) }, 'keeper started on chain 1 (perp venue)');
    const lines = pretty.text().trimEnd().split('\n');
    expect(lines[0]).toMatch(/hold {2}SAFE MODE: oracle stale \(3700 s\)$/);
    const started = lines.slice(1);
    expect(started.length).toBeLessThanOrEqual(6);
    expect(started.join('\n').length).toBeLessThan(500);
    expect(started.join('\n')).toContain('rpc https://eth-mainnet.example.com');
    expect(started.join('\n')).toMatch(/band 0\.5 ETH or 5%/);
    expect(pretty.text()).not.toContain(KEY);
  });
});
