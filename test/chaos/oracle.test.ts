import { describe, expect, it } from 'vitest';
import { priceFeedAbi } from '../../contracts-abi/index.js';
import { arbitragePoolToPrice } from '../../src/devnet/uniswap.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { E8, keeperOn, setMarketPrice } from '../helpers/keeper.js';
import { recordFault } from './record.js';
import { nonceOf, perpAccount } from './helpers.js';

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

  it('a stale feed: no hedge, safe mode logged, a top-up still happens when margin is low; then it recovers', async () => {
    const d = devnet();
    const { keeper, config, lines } = await keeperOn(d, { ORACLE_MAX_AGE_SEC: '3600' });
    await setMarketPrice(d, 2_300n * E8); // delta and margin both breach
    await makeStale(d, 7_200n);
    const sizeBefore = (await perpAccount(d)).sizeWei;
    const r = await keeper.tickOnce();
    expect(r.plan.actions.map((a) => a.kind)).toEqual(['topUp']);
    expect(r.plan.skipped.join(' ')).toMatch(/safe mode/);
    expect(r.results.map((x) => x.outcome)).toEqual(['done']);
    const after = await perpAccount(d);
    expect(after.sizeWei).toBe(sizeBefore);
    expect(after.marginRatioE18).toBeGreaterThanOrEqual(config.policy.marginTargetE18);
    const entered = lines().find((l) => l['event'] === 'safe_mode.entered');
    expect(String(entered?.['reason'])).toMatch(/oracle stale: the feed's answer is \d+s old/);
    // Fresh data again: safe mode ends and the hedge goes through.
    await setMarketPrice(d, 2_300n * E8);
    const back = await keeper.tickOnce();
    expect(lines().some((l) => l['event'] === 'safe_mode.left')).toBe(true);
    expect(back.results.map((x) => `${x.action.kind}:${x.outcome}`)).toContain('adjustHedge:done');
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
