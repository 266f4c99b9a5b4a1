import { describe, expect, it } from 'vitest';
import type { Action, Assessment, HedgeAccount, HedgePolicy, PolicyState, Snapshot } from '../../src/core/types.js';
import { assess } from '../../src/core/assess.js';
import { plan } from '../../src/core/plan.js';
import { ratioAfter } from '../../src/core/margin.js';
import { initialPolicyState } from '../../src/core/policy.js';
import { MAX_UINT256 } from '../../src/core/format.js';

const ETH = 10n ** 18n;
const USDC = 10n ** 6n;
const E16 = 10n ** 16n;
const PRICE = 2000n * 10n ** 8n;
const NOW = 1_700_000_000;

const policy: HedgePolicy = {
  hedgeRatioE18: 10n ** 18n, deltaBandWei: ETH / 2n, deltaBandPctE18: 0n, hysteresisE18: 50n * E16,
  cooldownSec: 60, minTradeWei: ETH / 100n, maxTradeWei: 50n * ETH,
  marginTriggerE18: 15n * E16, marginTargetE18: 25n * E16, hfTriggerE18: 130n * E16, hfTargetE18: 160n * E16,
  maxSlippageBps: 50, includeNativeEth: false, bandMode: 'fixed',
};

/** A perp short opened at PRICE (no PnL) whose account value is `valueUsdc`. */
function perp(sizeEth: number, valueUsdc: number): HedgeAccount {
  const sizeWei = BigInt(Math.round(sizeEth * 1e6)) * 10n ** 12n;
  const value = BigInt(Math.round(valueUsdc * 1e6));
  return {
    venue: 'perp', sizeWei, entryPriceE8: sizeWei === 0n ? 0n : PRICE, marginUnits: value, accountValueUnits: value,
    marginRatioE18: MAX_UINT256, maintenanceRatioE18: 5n * E16, initialRatioE18: 10n * E16, takerFeeBps: 5n,
  };
}

function aave(debtEth: number, collateralUsdc: number): HedgeAccount {
  return {
    venue: 'aave', debtWei: BigInt(Math.round(debtEth * 1e6)) * 10n ** 12n, collateralUnits: BigInt(collateralUsdc) * USDC,
    totalCollateralBaseE8: 0n, totalDebtBaseE8: 0n, liquidationThresholdBps: 8500n, ltvBps: 8000n, healthFactorE18: 0n,
  };
}

function assessed(wethEth: number, hedge: HedgeAccount, usdcUnits = 1_000_000n * USDC, p: HedgePolicy = policy): Assessment {
  const s: Snapshot = {
    chainId: 31337, blockNumber: 1n, blockTimestampSec: BigInt(NOW), account: '0x0000000000000000000000000000000000000001',
    oracle: { priceE8: PRICE, updatedAtSec: BigInt(NOW), quotePriceE8: 10n ** 8n },
    pool: { sqrtPriceX96: 0n, tick: 0, liquidity: 0n, priceE8: PRICE },
    wallet: { ethWei: 0n, wethWei: BigInt(Math.round(wethEth * 1e6)) * 10n ** 12n, usdcUnits },
    lps: [], hedge,
  };
  return assess(s, p);
}

const eth = (n: number): bigint => BigInt(Math.round(n * 1e6)) * 10n ** 12n;
const hedgeOf = (actions: Action[]): bigint | undefined =>
  actions.find((a) => a.kind === 'adjustHedge')?.sizeDeltaWei as bigint | undefined;
const topUpOf = (actions: Action[]): bigint | undefined =>
  actions.find((a) => a.kind === 'topUp')?.amountUnits as bigint | undefined;

describe('plan: hedge sizing', () => {
  // [name, assessment, policy, expected hedge size delta (undefined = none), skipped fragment]
  const half: HedgePolicy = { ...policy, hedgeRatioE18: 5n * 10n ** 17n };
  const cases: [string, Assessment, HedgePolicy, bigint | undefined, string | null][] = [
    ['in band: nothing', assessed(10, perp(-9.6, 10_000)), policy, undefined, 'in band'],
    ['breach, hysteresis 50%: leave half the band', assessed(10, perp(-9, 10_000)), policy, eth(-0.75), null],
    ['breach, hysteresis 100%: exactly to target', assessed(10, perp(-9, 10_000)), { ...policy, hysteresisE18: 10n ** 18n }, eth(-1), null],
    ['breach, hysteresis 0%: back to the band edge', assessed(10, perp(-9, 10_000)), { ...policy, hysteresisE18: 0n }, eth(-0.5), null],
    ['over-hedged: buy back', assessed(10, perp(-12, 10_000)), policy, eth(1.75), null],
    ['hedge ratio 0.5 from no hedge', assessed(10, perp(0, 10_000), undefined, half), half, eth(-4.75), null],
    ['dust: below min trade', assessed(10, perp(-9.4, 10_000)), { ...policy, minTradeWei: ETH, deltaBandWei: ETH / 2n }, undefined, 'below min trade'],
    ['max trade clips', assessed(100, perp(0, 1_000_000)), { ...policy, maxTradeWei: 10n * ETH }, eth(-10), 'max trade: -89.7500 ETH'],
  ];
  it.each(cases)('%s', (_n, a, p, expected, skippedFragment) => {
    const out = plan(a, initialPolicyState(), p, NOW);
    expect(hedgeOf(out.plan.actions)).toBe(expected);
    if (skippedFragment) expect(out.plan.skipped.join('\n')).toContain(skippedFragment);
    for (const action of out.plan.actions) expect(action.reason).toMatch(/\d\.\d{4} ETH/);
  });

  it('a clipped trade says so in its reason', () => {
    const out = plan(assessed(100, perp(0, 1_000_000)), initialPolicyState(), { ...policy, maxTradeWei: 10n * ETH }, NOW);
    expect(out.plan.actions[0]!.reason).toContain('clipped from -99.7500 ETH to max trade 10.0000 ETH');
  });

  it('records the hedge time in the returned state, and only then', () => {
    const s0 = initialPolicyState();
    expect(plan(assessed(10, perp(-9, 10_000)), s0, policy, NOW).state.lastHedgeAtSec).toBe(NOW);
    const idle = plan(assessed(10, perp(-10, 10_000)), s0, policy, NOW);
    expect(idle.state).toBe(s0);
    expect(idle.plan.actions).toEqual([]);
  });
});

describe('plan: cooldown and safe mode', () => {
  // margin breached (ratio 2000 / 18000 = 0.11) and delta breached (dev +1)
  const both = assessed(10, perp(-9, 2000));

  it.each([
    ['cooldown blocks the hedge, not the top-up', { lastHedgeAtSec: NOW - 30, safeMode: null }, 'cooldown: 30s of 60s left'],
    ['safe mode blocks the hedge, not the top-up', { lastHedgeAtSec: null, safeMode: { reason: 'stale oracle' } }, 'safe mode (stale oracle)'],
  ] as [string, PolicyState, string][])('%s', (_n, state, fragment) => {
    const out = plan(both, state, policy, NOW);
    expect(out.plan.actions.map((a) => a.kind)).toEqual(['topUp']);
    expect(out.plan.skipped.join('\n')).toContain(fragment);
    expect(out.state).toBe(state);
    // without a hedge the top-up is sized for the current position
    const amount = topUpOf(out.plan.actions)!;
    expect(ratioAfter(both.hedge, { sizeAfterWei: eth(-9), priceE8: PRICE, extraCollateralUnits: amount })).toBeGreaterThanOrEqual(25n * E16);
    expect(ratioAfter(both.hedge, { sizeAfterWei: eth(-9), priceE8: PRICE, extraCollateralUnits: amount - 1n })).toBeLessThan(25n * E16);
  });

  it.each([
    ['2.9 bands: the cooldown holds', -8.55, false],
    ['3.1 bands: a large move overrides the cooldown', -8.45, true],
  ])('cooldown override: %s', (_n, shortEth, hedged) => {
    // band 0.5 ETH; deviation = 10 - |short|
    const out = plan(assessed(10, perp(shortEth, 100_000)), { lastHedgeAtSec: NOW - 30, safeMode: null }, policy, NOW);
    expect(out.plan.actions.some((a) => a.kind === 'adjustHedge')).toBe(hedged);
    if (hedged) expect(out.plan.actions[0]?.reason).toMatch(/cooldown \(30s left\) overridden/);
  });

  it('cooldown over: hedging resumes', () => {
    const out = plan(both, { lastHedgeAtSec: NOW - 60, safeMode: null }, policy, NOW);
    expect(out.plan.actions.map((a) => a.kind)).toEqual(['topUp', 'adjustHedge']);
  });
});

describe('plan: collateral', () => {
  it.each([
    ['perp, both breached', assessed(10, perp(-9, 2000)), eth(-0.75)],
    ['perp, no hedge and no margin yet', assessed(10, perp(0, 0)), eth(-9.75)],
    ['aave, both breached', assessed(10, aave(9, 12_000)), eth(-0.75)],
  ])('%s: top-up first, sized for the post-hedge position', (_n, a, hedgeWei) => {
    const out = plan(a, initialPolicyState(), policy, NOW);
    expect(out.plan.actions.map((x) => x.kind)).toEqual(['topUp', 'adjustHedge']);
    expect(hedgeOf(out.plan.actions)).toBe(hedgeWei);
    const sizeAfterWei = a.hedgeDeltaWei + hedgeWei;
    const amount = topUpOf(out.plan.actions)!;
    const target = a.collateral.targetRatioE18;
    expect(ratioAfter(a.hedge, { sizeAfterWei, priceE8: PRICE, extraCollateralUnits: amount })).toBeGreaterThanOrEqual(target);
    expect(ratioAfter(a.hedge, { sizeAfterWei, priceE8: PRICE, extraCollateralUnits: amount - 1n })).toBeLessThan(target);
    expect(out.plan.actions[0]!.reason).toContain('after the planned hedge');
  });

  it('perp: 0.25 on 9.75 ETH at $2000 after a 0.75 ETH fee of 0.75 USDC', () => {
    const out = plan(assessed(10, perp(-9, 2000)), initialPolicyState(), policy, NOW);
    expect(topUpOf(out.plan.actions)).toBe(4875n * USDC - 2000n * USDC + 750_000n); // 2875.75 USDC
  });

  it('a hedge that shrinks the short restores the ratio: no top-up', () => {
    // ratio 2800 / 20000 = 0.14 < 0.15; after buying back 4.75 ETH: 2795.25 / 10500 = 0.266
    const out = plan(assessed(5, perp(-10, 2800)), initialPolicyState(), policy, NOW);
    expect(out.plan.actions.map((a) => a.kind)).toEqual(['adjustHedge']);
    expect(out.plan.skipped.join('\n')).toMatch(/margin ratio 0\.1400 \(0\.266\d after the planned hedge\).*restores/);
  });

  it('a hedge that would thin the margin below trigger brings a top-up', () => {
    // ratio now 3500 / 18000 = 0.194 > 0.15, but 3500 / 19500 after shorting 0.75 more is 0.179: fine;
    // at 3000 of value: 0.1667 now, 0.1538 after: fine; at 2900: 0.161 now, 0.1487 after -> top-up
    const out = plan(assessed(10, perp(-9, 2900)), initialPolicyState(), policy, NOW);
    expect(out.plan.actions.map((a) => a.kind)).toEqual(['topUp', 'adjustHedge']);
  });

  it('clips a top-up to the wallet balance and says so', () => {
    const out = plan(assessed(10, perp(-9, 2000), 500n * USDC), initialPolicyState(), policy, NOW);
    expect(topUpOf(out.plan.actions)).toBe(500n * USDC);
    expect(out.plan.actions[0]!.reason).toContain('clipped to the wallet balance 500.00 USDC');
    expect(out.plan.skipped.join('\n')).toContain('top-up short by 2375.75 USDC');
  });

  it.each([
    ['perp under initial margin', assessed(10, perp(-9, 1500), 100n * USDC), 'margin ratio 0.0820 under the initial 0.1000'],
    ['aave over LTV', assessed(10, aave(9, 18_000), 100n * USDC), 'debt over collateral * LTV 80%'],
  ])('drops a hedge the venue would refuse even after topping up: %s', (_n, a, fragment) => {
    const out = plan(a, initialPolicyState(), policy, NOW);
    expect(out.plan.actions.map((x) => x.kind)).toEqual(['topUp']);
    expect(out.plan.skipped.join('\n')).toContain(`venue would refuse: sell 0.7500 ETH leaves ${fragment} even with 100.00 USDC added`);
    expect(out.state.lastHedgeAtSec).toBeNull();
    expect(out.plan.actions[0]!.reason).not.toContain('after the planned hedge');
  });

  it('skips a top-up with an empty wallet, with the reason', () => {
    const out = plan(assessed(10, perp(-10, 2000), 0n), initialPolicyState(), policy, NOW);
    expect(out.plan.actions).toEqual([]);
    expect(out.plan.skipped.join('\n')).toContain('needs 3000.00 USDC to reach 0.2500, but the wallet has no USDC');
  });

  it('aave: health factor under trigger, in band: top-up to HF target', () => {
    // HF = 9000 * 0.85 / (3 * 2000) = 1.275 < 1.3; needs 1.6 * 6000 / 0.85 = 11294.12 of collateral
    const a = assessed(3, aave(3, 9000));
    const out = plan(a, initialPolicyState(), policy, NOW);
    expect(out.plan.actions.map((x) => x.kind)).toEqual(['topUp']);
    expect(topUpOf(out.plan.actions)).toBe(2_294_117_648n);
    expect(out.plan.actions[0]!.reason).toMatch(/^health factor 1\.2750 below trigger 1\.3000: add 2294\.12 USDC to reach 1\.6000$/);
  });
});
