import { describe, expect, it } from 'vitest';
import type { Action, Assessment, HedgeAccount, HedgePolicy, PolicyState, Snapshot } from '../../src/core/types.js';
import { assess } from '../../src/core/assess.js';
import { plan, type PlanOptions } from '../../src/core/plan.js';
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

function assessed(wethEth: number, hedge: HedgeAccount, usdcUnits = 1_000_000n * USDC, p: HedgePolicy = policy, priceE8 = PRICE): Assessment {
  const s: Snapshot = {
    chainId: 31337, blockNumber: 1n, blockTimestampSec: BigInt(NOW), account: '0x0000000000000000000000000000000000000001',
    oracle: { priceE8, updatedAtSec: BigInt(NOW), quotePriceE8: 10n ** 8n },
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

  it.each([
    ['margin and delta breached', both],
    ['the report: feed at 10x the entry, 71000 USDC in the wallet', assessed(10, perp(-9, 2000), 71_000n * USDC, policy, 10n * PRICE)],
    ['aave, health factor under trigger', assessed(3, aave(3, 9000))],
  ])('safe mode blocks the hedge and the top-up, saying why: %s', (_n, a) => {
    const state: PolicyState = { lastHedgeAtSec: null, safeMode: { reason: 'pool price $2000.00 is 9000 bps from the oracle' } };
    const out = plan(a, state, policy, NOW, { topUpAllowance: { units: 10n ** 12n, limitedBy: 'x' } });
    expect(out.plan.actions).toEqual([]);
    expect(out.plan.warnings).toBeUndefined();
    expect(out.plan.skipped.join('\n')).toMatch(
      /safe mode \(pool price \$2000\.00 is 9000 bps from the oracle\): no top-up sized on a price the keeper does not trust; (margin ratio|health factor) \d\.\d{4} below trigger/,
    );
    expect(out.state).toBe(state);
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

  it('clips a top-up to the wallet balance and says so, when that still clears the trigger', () => {
    // (2000 + 1000 - 0.75 fee) / 19500 = 0.1538 >= 0.15
    const out = plan(assessed(10, perp(-9, 2000), 1000n * USDC), initialPolicyState(), policy, NOW);
    expect(out.plan.actions.map((x) => x.kind)).toEqual(['topUp', 'adjustHedge']);
    expect(topUpOf(out.plan.actions)).toBe(1000n * USDC);
    expect(out.plan.actions[0]!.reason).toContain('clipped to the wallet balance 1000.00 USDC, reaching 0.1538');
    expect(out.plan.skipped.join('\n')).toContain('top-up short by 1875.75 USDC');
    expect(out.plan.warnings).toBeUndefined();
  });

  it.each([
    ['perp under initial margin', assessed(10, perp(-9, 1500), 100n * USDC), /margin ratio 0\.07\d\d under the initial 0\.1000 with no top-up to go with it/],
    ['aave over LTV', assessed(10, aave(9, 18_000), 100n * USDC), /debt over collateral \* LTV 80% with no top-up to go with it/],
  ])('drops a hedge the venue would refuse, and a top-up that cannot clear the trigger: %s', (_n, a, venueRule) => {
    const out = plan(a, initialPolicyState(), policy, NOW);
    expect(out.plan.actions).toEqual([]);
    const skipped = out.plan.skipped.join('\n');
    expect(skipped).toMatch(new RegExp(`venue would refuse: sell 0\\.7500 ETH leaves ${venueRule.source}`));
    expect(skipped).toMatch(/top-up insufficient: .* the wallet balance 100\.00 USDC: 100\.00 USDC would reach only \d\.\d{4}, under the trigger; not sent/);
    expect(out.plan.warnings?.map((w) => [w.event, w.availableUnits])).toEqual([['topup.insufficient', 100n * USDC]]);
    expect(out.state.lastHedgeAtSec).toBeNull();
  });

  it('skips a top-up with an empty wallet, with the reason and a warning', () => {
    const out = plan(assessed(10, perp(-10, 2000), 0n), initialPolicyState(), policy, NOW);
    expect(out.plan.actions).toEqual([]);
    expect(out.plan.skipped.join('\n')).toContain('needs 3000.00 USDC to reach 0.2500, but the wallet has no USDC');
    expect(out.plan.warnings?.[0]).toMatchObject({ event: 'topup.insufficient', neededUnits: 3000n * USDC, availableUnits: 0n });
  });

  it('the report: feed at 10x, 71000 USDC in the wallet, not in safe mode: the wallet is not poured in', () => {
    // Short 9 ETH from $2000 at $20000: -162000 of PnL on 2000 of margin; the wallet cannot save it.
    const out = plan(assessed(10, perp(-9, -160_000), 71_000n * USDC, policy, 10n * PRICE), initialPolicyState(), policy, NOW);
    expect(topUpOf(out.plan.actions)).toBeUndefined();
    expect(out.plan.warnings?.map((w) => w.event)).toEqual(['topup.insufficient']);
    expect(out.plan.skipped.join('\n')).toMatch(/clipped to the wallet balance 71000\.00 USDC: 71000\.00 USDC would reach only 0\.0000/);
  });
});

describe('plan: top-up caps (MAX_TOPUP_USDC, MAX_TOPUP_PER_DAY_USDC)', () => {
  const perAction = (usdc: bigint): PlanOptions => ({ topUpAllowance: { units: usdc * USDC, limitedBy: `the per-action cap ${usdc}.00 USDC (MAX_TOPUP_USDC)` } });
  const daily = (usdc: bigint): PlanOptions => ({ topUpAllowance: { units: usdc * USDC, limitedBy: `the daily top-up cap (${usdc}.00 USDC left of 5000.00 USDC, MAX_TOPUP_PER_DAY_USDC)` } });
  // perp -9 ETH with 2000 of value at $2000, hedge to -9.75: needs 2875.75 USDC to reach 0.25;
  // 1000 more reaches 0.1538 (>= trigger 0.15), 500 more only 0.1282.
  // [name, options, wallet USDC, expected top-up (undefined = none), fragment, warned]
  const cases: [string, PlanOptions, bigint, bigint | undefined, string, boolean][] = [
    ['cap above the need: the full top-up', perAction(10_000n), 1_000_000n, 2_875_750_000n, 'add 2875.75 USDC to reach 0.2500', false],
    ['cap exactly the need', { topUpAllowance: { units: 2_875_750_000n, limitedBy: 'x' } }, 1_000_000n, 2_875_750_000n, 'add 2875.75 USDC', false],
    ['per-action cap binds and still clears the trigger', perAction(1000n), 1_000_000n, 1000n * USDC,
      'clipped to the per-action cap 1000.00 USDC (MAX_TOPUP_USDC), reaching 0.1538', false],
    ['per-action cap binds below the trigger: not sent', perAction(500n), 1_000_000n, undefined,
      'clipped to the per-action cap 500.00 USDC (MAX_TOPUP_USDC): 500.00 USDC would reach only 0.1282, under the trigger; not sent', true],
    ['daily cap left binds', daily(1200n), 1_000_000n, 1200n * USDC, 'clipped to the daily top-up cap (1200.00 USDC left', false],
    ['daily cap used up', daily(0n), 1_000_000n, undefined, 'clipped to the daily top-up cap (0.00 USDC left of 5000.00 USDC, MAX_TOPUP_PER_DAY_USDC): 0.00 USDC would reach only', true],
    ['cap, then the wallet', perAction(2000n), 1000n, 1000n * USDC,
      'clipped to the per-action cap 2000.00 USDC (MAX_TOPUP_USDC), then clipped to the wallet balance 1000.00 USDC, reaching 0.1538', false],
  ];
  it.each(cases)('%s', (_n, opts, walletUsdc, expected, fragment, warned) => {
    const out = plan(assessed(10, perp(-9, 2000), walletUsdc * USDC), initialPolicyState(), policy, NOW, opts);
    expect(topUpOf(out.plan.actions)).toBe(expected);
    expect([...out.plan.actions.map((a) => a.reason), ...out.plan.skipped].join('\n')).toContain(fragment);
    expect(out.plan.warnings?.length ?? 0).toBe(warned ? 1 : 0);
    // A top-up that is sent always leaves the ratio (after the planned hedge) at or above the trigger.
    if (expected !== undefined) {
      expect(hedgeOf(out.plan.actions)).toBe(eth(-0.75));
      const after = ratioAfter(perp(-9, 2000), { sizeAfterWei: eth(-9.75), priceE8: PRICE, extraCollateralUnits: expected });
      expect(after).toBeGreaterThanOrEqual(policy.marginTriggerE18);
    }
  });

  it('a hedge the venue accepts alone goes on when its top-up cannot clear the trigger', () => {
    // (2000 - 0.75) / 19500 = 0.1025 >= initial 0.10: the trade stands, the 500 USDC is not sent.
    const out = plan(assessed(10, perp(-9, 2000)), initialPolicyState(), policy, NOW, perAction(500n));
    expect(out.plan.actions.map((a) => a.kind)).toEqual(['adjustHedge']);
    expect(out.plan.warnings?.[0]?.message).toContain('after the planned hedge');
  });

  it('no usable price (a feed answering <= 0 reads as 0): nothing sized, nothing thrown', () => {
    for (const a of [assessed(10, perp(-9, 2000), undefined, policy, 0n), assessed(3, aave(3, 9000), undefined, policy, 0n)]) {
      const out = plan(a, initialPolicyState(), policy, NOW, perAction(1000n));
      expect(topUpOf(out.plan.actions)).toBeUndefined();
    }
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
