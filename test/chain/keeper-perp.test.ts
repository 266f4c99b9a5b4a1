import { describe, expect, it } from 'vitest';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import { useDevnet } from '../helpers/devnet.js';
import { E8, abs, keeperOn, setMarketPrice } from '../helpers/keeper.js';

describe('keeper loop on the perp venue (devnet)', () => {
  const devnet = useDevnet();

  const perpAccount = async () => {
    const d = devnet();
    return d.as('perpDemo').publicClient.readContract({
      address: d.addresses.perp,
      abi: perpExchangeAbi,
      functionName: 'getAccount',
      args: [d.addresses.demo.perp.account, BigInt(d.addresses.perpMarketId)],
    });
  };
  const nonce = async () => {
    const d = devnet();
    return d.as('perpDemo').publicClient.getTransactionCount({ address: d.addresses.demo.perp.account });
  };

  /** The account owner withdraws margin down to a 12% ratio (above the 10% initial ratio). */
  const squeezeMargin = async () => {
    const d = devnet();
    const acct = await perpAccount();
    const keepUnits = (acct.notionalUnits * 12n) / 100n;
    const { walletClient, publicClient } = d.as('perpDemo');
    const hash = await walletClient.writeContract({
      address: d.addresses.perp,
      abi: perpExchangeAbi,
      functionName: 'withdraw',
      args: [BigInt(d.addresses.perpMarketId), BigInt(acct.accountValueUnits) - keepUnits],
    });
    expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
  };

  it('inside the band: nothing is sent', async () => {
    const { keeper } = await keeperOn(devnet());
    const before = await nonce();
    const r = await keeper.tickOnce();
    expect(r.assessment.inBand).toBe(true);
    expect(r.plan.actions).toEqual([]);
    expect(await nonce()).toBe(before);
  });

  it('a price move that pushes delta outside the band is hedged in one tick, back inside the band', async () => {
    const d = devnet();
    const { keeper } = await keeperOn(d);
    const sizeBefore = (await perpAccount()).sizeWei;
    await setMarketPrice(d, 1_900n * E8); // -5%: the LP buys ETH, spot delta grows
    const first = await keeper.tickOnce();
    expect(first.assessment.inBand).toBe(false);
    expect(first.results.map((r) => r.outcome)).toEqual(['done']);
    const sizeAfter = (await perpAccount()).sizeWei;
    expect(sizeAfter).toBeLessThan(sizeBefore); // shorted more
    const check = await keeper.tickOnce();
    expect(check.assessment.inBand).toBe(true);
    expect(abs(check.assessment.deviationWei)).toBeLessThanOrEqual(check.assessment.bandWei);
    expect(check.plan.actions).toEqual([]);
  });

  it('a margin squeeze below the trigger is topped up to the target ratio', async () => {
    const d = devnet();
    // Only the margin breaches: a wide band keeps the hedge untouched.
    const { keeper, config } = await keeperOn(d, { DELTA_BAND_ETH: '100' });
    await setMarketPrice(d, 2_300n * E8);
    const ratioBefore = (await perpAccount()).marginRatioE18;
    expect(ratioBefore).toBeLessThan(config.policy.marginTriggerE18);
    const r = await keeper.tickOnce();
    expect(r.plan.actions.map((a) => a.kind)).toEqual(['topUp']);
    expect(r.results[0]?.outcome).toBe('done');
    const after = await perpAccount();
    expect(after.marginRatioE18).toBeGreaterThanOrEqual(config.policy.marginTargetE18);
    expect(after.marginRatioE18).toBeLessThan(config.policy.marginTargetE18 + 10n ** 15n); // not overfunded (0.1%)
  });

  it('with both breaches, the top-up comes first and both land', async () => {
    const d = devnet();
    await setMarketPrice(d, 1_900n * E8); // the LP bought ETH: the hedge must grow...
    await squeezeMargin(); // ...on thin margin
    // Started after the squeeze: a withdrawal sent from the keeper's key behind its back is a
    // nonce its journal cannot explain, and the keeper would rightly hold.
    const { keeper, config } = await keeperOn(d);
    const r = await keeper.tickOnce();
    expect(r.assessment.collateral.breached).toBe(true);
    expect(r.plan.actions.map((a) => a.kind)).toEqual(['topUp', 'adjustHedge']);
    expect(r.results.map((x) => x.outcome)).toEqual(['done', 'done']);
    const [topUpTx] = r.results[0]?.txs.filter((t) => t.status === 'mined') ?? [];
    const [tradeTx] = r.results[1]?.txs.filter((t) => t.status === 'mined') ?? [];
    expect(topUpTx && tradeTx && topUpTx.status === 'mined' && tradeTx.status === 'mined' && topUpTx.blockNumber < tradeTx.blockNumber).toBe(true);
    const after = await perpAccount();
    expect(after.marginRatioE18).toBeGreaterThanOrEqual(config.policy.marginTargetE18);
    const check = await keeper.tickOnce();
    expect(check.assessment.inBand).toBe(true);
  });

  it('dry-run plans and simulates but leaves the nonce unchanged', async () => {
    const d = devnet();
    const { keeper } = await keeperOn(d, {}, { dryRun: true });
    await setMarketPrice(d, 1_900n * E8);
    await squeezeMargin();
    const before = await nonce();
    const sizeBefore = (await perpAccount()).sizeWei;
    const r = await keeper.tickOnce();
    expect(r.plan.actions.length).toBe(2);
    expect(r.results.map((x) => x.outcome)).toEqual(['simulated', 'simulated']);
    expect(await nonce()).toBe(before);
    expect((await perpAccount()).sizeWei).toBe(sizeBefore);
  });
});

describe('adaptive bands in the live keeper (devnet)', () => {
  const devnet = useDevnet();

  it('BAND_MODE=time trades back to target once per period, and not in between', async () => {
    const d = devnet();
    const { keeper } = await keeperOn(d, { BAND_MODE: 'time', REBALANCE_PERIOD_SEC: '3600', MIN_TRADE_ETH: '0.001' });
    const first = await keeper.tickOnce(); // the first tick is due: back to target
    expect(first.plan.actions.map((a) => a.kind)).toEqual(['adjustHedge']);
    expect(first.results.map((r) => r.outcome)).toEqual(['done']);
    await setMarketPrice(d, 1_850n * E8); // far outside any fixed band
    const between = await keeper.tickOnce();
    expect(between.plan.actions).toEqual([]);
    await d.test.increaseTime({ seconds: 3_600 });
    await setMarketPrice(d, 1_850n * E8); // a fresh round after the hour
    const due = await keeper.tickOnce();
    expect(due.plan.actions.map((a) => a.kind)).toEqual(['adjustHedge']);
    expect(due.results.map((r) => r.outcome)).toEqual(['done']);
  });

  it('BAND_MODE=vol widens the band when volatility is high', async () => {
    const d = devnet();
    const { keeper: fixed } = await keeperOn(d);
    const { keeper: vol } = await keeperOn(d, { BAND_MODE: 'vol', BAND_VOL_REF_ANNUAL: '0.4' });
    const a = await fixed.tickOnce();
    const b = await vol.tickOnce(); // prior vol 80% vs reference 40%: twice the fixed band
    expect(b.assessment.bandWei).toBe(a.assessment.bandWei * 2n);
  });
});
