import { describe, expect, it } from 'vitest';
import { priceFeedAbi } from '../../contracts-abi/index.js';
import { arbitragePoolToPrice } from '../../src/devnet/uniswap.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { E8, keeperOn, setMarketPrice } from '../helpers/keeper.js';
import { recordFault } from './record.js';
import { nonceOf, perpAccount } from './helpers.js';
import { fundsState, injectRound, latestRound, type RoundFields } from './mock-feed.js';

/** Re-stamp the feed's answer as if it was last updated `ageSec` ago. */
async function makeStale(d: Devnet, ageSec: bigint): Promise<void> {
  const owner = d.as('deployer');
  const pc = owner.publicClient;
  const block = await pc.getBlock({ blockTag: 'latest' });
  const answer = await pc.readContract({ address: d.addresses.ethUsdFeed, abi: priceFeedAbi, functionName: 'latestAnswer' });
  const hash = await owner.walletClient.writeContract({
    address: d.addresses.ethUsdFeed,
    abi: priceFeedAbi,
    functionName: 'setPriceAt',
    args: [answer, block.timestamp - ageSec],
  });
  await pc.waitForTransactionReceipt({ hash });
}

describe('chaos: oracle sanity', () => {
  const devnet = useDevnet();

  it('a stale feed: no hedge and no top-up sized on it, safe mode logged; then it recovers', async () => {
    const d = devnet();
    const { keeper, config, lines } = await keeperOn(d, { ORACLE_MAX_AGE_SEC: '3600' });
    await setMarketPrice(d, 2_300n * E8); // delta and margin both breach
    await makeStale(d, 7_200n);
    const before = await fundsState(d);
    const r = await keeper.tickOnce();
    expect(r.plan.actions).toEqual([]);
    expect(r.plan.skipped.join(' ')).toMatch(/safe mode \(oracle stale.*no top-up sized on a price the keeper does not trust/);
    expect(await fundsState(d)).toEqual(before);
    const entered = lines().find((l) => l['event'] === 'safe_mode.entered');
    expect(String(entered?.['reason'])).toMatch(/oracle stale: the feed's answer is \d+s old, its heartbeat is 3600s \(ORACLE_MAX_AGE_SEC; ETH\/USD feed 0x/);
    // Fresh data again: safe mode ends, the margin is topped up and the hedge goes through.
    await setMarketPrice(d, 2_300n * E8);
    const back = await keeper.tickOnce();
    expect(lines().some((l) => l['event'] === 'safe_mode.left')).toBe(true);
    expect(back.results.map((x) => `${x.action.kind}:${x.outcome}`)).toContain('adjustHedge:done');
    expect(back.results.every((x) => x.outcome === 'done')).toBe(true);
    expect((await perpAccount(d)).marginRatioE18).toBeGreaterThanOrEqual(config.policy.marginTriggerE18);
    recordFault({ fault: 'stale oracle (older than its heartbeat)', survived: true, lostUsd: 0 });
  });

  it('the pool price deviates from the feed: no hedge, safe mode', async () => {
    const d = devnet();
    const { keeper, lines } = await keeperOn(d, { MAX_POOL_DEVIATION_BPS: '150' });
    const a = d.addresses;
    // The pool alone falls 5% (the feed stays at 2000): the LP's ETH grows, delta breaches.
    await arbitragePoolToPrice(d.as('marketMaker'), { pool: a.uniswap.pool, swapRouter: a.uniswap.swapRouter, weth: a.weth, usdc: a.usdc, targetPriceE8: 1_900n * E8 });
    const nonce = await nonceOf(d);
    const r = await keeper.tickOnce();
    expect(r.assessment.inBand).toBe(false);
    expect(r.plan.actions).toEqual([]);
    expect(await nonceOf(d)).toBe(nonce);
    const entered = lines().find((l) => l['event'] === 'safe_mode.entered');
    expect(String(entered?.['reason'])).toMatch(/pool price \$1900\.\d+ is \d+ bps from the oracle \$2000/);
    recordFault({ fault: 'pool/feed price deviation', survived: true, lostUsd: 0 });
  });
});

/**
 * Rounds a broken or compromised aggregator can serve. Each starts from a keeper that has ticked
 * once on a sane feed (it knows the round and the account), moves the market so that a hedge and
 * a top-up are due, then makes the feed serve the bad round: the keeper must hold everything.
 */
describe('chaos: oracle rounds the keeper must refuse', () => {
  const devnet = useDevnet();

  // [fault, round made from the real feed's latest (sane) round and the block time, reason]
  const faults: [string, (r: RoundFields, nowSec: bigint) => RoundFields, RegExp][] = [
    ['feed answers 0', (r, now) => next(r, now, { answer: 0n }), /oracle answer not a price: ETH\/USD feed 0x[0-9a-fA-F]{40} answered 0 in round \d+/],
    ['feed answers a negative price', (r, now) => next(r, now, { answer: -2_300n * E8 }), /oracle answer not a price: .* answered -230000000000 in round/],
    ['feed roundId goes backwards', (r, now) => ({ ...r, roundId: r.roundId - 2n, answeredInRound: r.roundId - 2n, startedAt: now, updatedAt: now }),
      /oracle round went backwards: ETH\/USD feed 0x[0-9a-fA-F]{40} reports round \d+ after round \d+/],
    ['feed answeredInRound < roundId', (r, now) => next(r, now, { answeredInRound: r.roundId }), /oracle answer carried over: .* answeredInRound \d+ < roundId \d+/],
    ['feed updatedAt in the future', (r, now) => next(r, now, { updatedAt: now + 900n }), /oracle updatedAt in the future: .* is \d+s after the block timestamp/],
    ['feed decimals other than 8', (r, now) => next(r, now, { answer: 2_300n * 10n ** 18n, decimals: 18 }), /oracle decimals: .* has 18 decimals, the keeper reads prices with 8/],
  ];

  it.each(faults)('%s: no trade, no top-up, safe mode with the reason', async (fault, makeRound, reason) => {
    const d = devnet();
    const rpcMethods: string[] = [];
    const { keeper, lines } = await keeperOn(d, { ORACLE_MAX_AGE_SEC: '3600' }, { telemetry: { rpcRequest: (_url, m) => rpcMethods.push(m) } });
    await keeper.tickOnce(); // a sane first tick: the keeper knows the feed's round and the account
    await setMarketPrice(d, 2_300n * E8); // delta and margin both breach at the real price
    const sane = await latestRound(d, d.addresses.ethUsdFeed);
    const { timestamp } = await d.as('deployer').publicClient.getBlock({ blockTag: 'latest' });
    const bad = makeRound(sane, timestamp);
    await injectRound(d, d.addresses.ethUsdFeed, bad);
    const before = await fundsState(d);

    // The read survives the round, carries it whole, and is still one eth_call.
    rpcMethods.length = 0;
    const snapshot = await keeper.reader.read();
    expect(rpcMethods.filter((m) => m === 'eth_call')).toHaveLength(1);
    expect(snapshot.oracle.round).toMatchObject({ feed: d.addresses.ethUsdFeed, ...bad });

    const r = await keeper.tickOnce(); // must not throw: it reaches the sanity check
    expect(r.plan.actions).toEqual([]);
    expect(r.results).toEqual([]);
    expect(r.state.policy.safeMode?.reason).toMatch(reason);
    expect(await fundsState(d)).toEqual(before);
    const entered = lines().filter((l) => l['event'] === 'safe_mode.entered');
    expect(entered).toHaveLength(1);
    expect(String(entered[0]?.['reason'])).toMatch(reason);
    // It stays held on the next block too (a new tick, the same bad round).
    await d.test.mine({ blocks: 1 });
    const again = await keeper.tickOnce();
    expect(again.plan.actions).toEqual([]);
    expect(await fundsState(d)).toEqual(before);
    recordFault({ fault: `oracle: ${fault}`, survived: true, lostUsd: 0 });
  });

  it('feed at 10x the pool price: no top-up of the whole wallet, no trade, safe mode', async () => {
    const d = devnet();
    const { keeper, lines } = await keeperOn(d);
    const owner = d.as('deployer');
    // The feed alone jumps to 10x (a valid round): the short looks bankrupt at that price.
    const hash = await owner.walletClient.writeContract({ address: d.addresses.ethUsdFeed, abi: priceFeedAbi, functionName: 'setPrice', args: [20_000n * E8] });
    await owner.publicClient.waitForTransactionReceipt({ hash });
    const before = await fundsState(d);
    expect(before.walletUsdcUnits).toBeGreaterThan(0n);

    const r = await keeper.tickOnce();
    expect(r.assessment.collateral.breached).toBe(true); // the top-up the old keeper sent
    expect(r.plan.actions).toEqual([]);
    expect(r.plan.skipped.join('\n')).toMatch(/safe mode \(pool price .*\): no top-up sized on a price the keeper does not trust/);
    expect(await fundsState(d)).toEqual(before);
    const entered = lines().find((l) => l['event'] === 'safe_mode.entered');
    expect(String(entered?.['reason'])).toMatch(/pool price \$\d+\.\d+ is \d+ bps from the oracle \$20000\.00/);
    recordFault({ fault: 'oracle: feed at 10x the pool price (no top-up of the wallet)', survived: true, lostUsd: 0 });
  });

  it('feed answers 0 before the keeper ever read the account: the tick fails naming the feed, nothing is sent', async () => {
    const d = devnet();
    const sane = await latestRound(d, d.addresses.ethUsdFeed);
    const { timestamp } = await d.as('deployer').publicClient.getBlock({ blockTag: 'latest' });
    await injectRound(d, d.addresses.ethUsdFeed, next(sane, timestamp, { answer: 0n }));
    const { keeper } = await keeperOn(d);
    const before = await fundsState(d);
    await expect(keeper.tickOnce()).rejects.toThrow(
      new RegExp(`the perp account cannot be read while the feeds give no price \\(${d.addresses.ethUsdFeed} answered 0, .*\\) and no earlier reading exists`),
    );
    expect(await fundsState(d)).toEqual(before);
    recordFault({ fault: 'oracle: feed answers 0 at start-up (no account reading yet)', survived: true, lostUsd: 0 });
  });
});

/** The round after `r`, updated now, with some fields overridden. */
function next(r: RoundFields, nowSec: bigint, over: Partial<RoundFields>): RoundFields {
  const roundId = r.roundId + 1n;
  return { ...r, roundId, answeredInRound: roundId, startedAt: nowSec, updatedAt: nowSec, ...over };
}

describe('chaos: alerts', () => {
  const devnet = useDevnet();

  it('safe mode reaches the webhook; a webhook that never answers does not block the keeper', async () => {
    const { createServer } = await import('node:http');
    const { createAlerter } = await import('../../src/monitor/alerts.js');
    const received: string[] = [];
    // The webhook reads the alert and then never answers.
    const server = createServer((req) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => received.push(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const d = devnet();
      const alerter = createAlerter({ url: `http://127.0.0.1:${port}/hook`, largeActionUsd: 1_000_000, timeoutMs: 60_000 });
      const { keeper } = await keeperOn(d, { ORACLE_MAX_AGE_SEC: '3600' }, { onLine: alerter.onLine });
      await setMarketPrice(d, 1_900n * E8);
      await makeStale(d, 7_200n);
      const first = await keeper.tickOnce(); // safe mode: alert queued, delivery hangs
      expect(first.state.policy.safeMode).not.toBeNull();
      await setMarketPrice(d, 1_900n * E8);
      const second = await keeper.tickOnce(); // the keeper goes on while the webhook hangs
      expect(second.results.map((x) => x.outcome)).toEqual(['done']);
      for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const alert = JSON.parse(received[0] ?? '{}') as { text?: string; content?: string };
      expect(alert.text).toMatch(/SAFE MODE: oracle stale/);
      expect(alert.content).toBe(alert.text);
      expect(alerter.sent).toBe(0); // still waiting for the hung webhook
      recordFault({ fault: 'alert webhook hangs (delivery never blocks the loop)', survived: true, lostUsd: 0 });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
