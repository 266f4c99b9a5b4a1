import { describe, expect, it } from 'vitest';
import type { Action, HedgePolicy, Snapshot } from '../../src/core/types.js';
import { MAX_UINT256 } from '../../src/core/format.js';
import { initialPolicyState } from '../../src/core/policy.js';
import { initialGuardState } from '../../src/core/guard.js';
import { tick, type RunnerState, type TickDeps } from '../../src/runner/tick.js';
import type { TxOutcome } from '../../src/chain/executor.js';
import { createRecordingLogger } from '../../src/monitor/logger.js';

const ETH = 10n ** 18n;
const E16 = 10n ** 16n;
const PRICE = 2000n * 10n ** 8n;
const NOW = 1_700_000_000n;

const policy: HedgePolicy = {
  hedgeRatioE18: ETH, deltaBandWei: ETH / 2n, deltaBandPctE18: 0n, hysteresisE18: 100n * E16,
  cooldownSec: 60, minTradeWei: ETH / 100n, maxTradeWei: 50n * ETH,
  marginTriggerE18: 15n * E16, marginTargetE18: 25n * E16, hfTriggerE18: 130n * E16, hfTargetE18: 160n * E16,
  maxSlippageBps: 50, includeNativeEth: false, bandMode: 'fixed',
};
const guard = { maxTradeWei: 50n * ETH, maxNotionalPerDayUsdE8: 10n ** 14n, maxTopUpUnits: 10n ** 12n, maxTopUpPerDayUnits: 10n ** 13n };

/** 10 WETH in the wallet against a short of `shortEth`, healthy margin. */
function snapshot(shortEth: bigint, opts: { oracleAgeSec?: bigint } = {}): Snapshot {
  const sizeWei = -shortEth * ETH;
  const value = 10_000n * 10n ** 6n;
  return {
    chainId: 31337, blockNumber: 100n, blockTimestampSec: NOW, account: '0x0000000000000000000000000000000000000001',
    oracle: { priceE8: PRICE, updatedAtSec: NOW - (opts.oracleAgeSec ?? 0n), quotePriceE8: 10n ** 8n },
    pool: { sqrtPriceX96: 0n, tick: 0, liquidity: 0n, priceE8: PRICE },
    wallet: { ethWei: ETH, wethWei: 10n * ETH, usdcUnits: 100_000n * 10n ** 6n },
    lps: [],
    hedge: {
      venue: 'perp', sizeWei, entryPriceE8: PRICE, marginUnits: value, accountValueUnits: value,
      marginRatioE18: MAX_UINT256, maintenanceRatioE18: 5n * E16, initialRatioE18: 10n * E16, takerFeeBps: 5n,
    },
  };
}

const initial = (): RunnerState => ({ policy: initialPolicyState(), guard: initialGuardState(Number(NOW)) });
const mined: TxOutcome = { status: 'mined', label: 'perp.trade', hash: '0x01', gasUsed: 80_000n, blockNumber: 101n };

function deps(s: Snapshot, outcome: TxOutcome, extra: Partial<TickDeps> = {}) {
  const { logger, lines } = createRecordingLogger('debug');
  const executed: Action[] = [];
  const d: TickDeps = {
    readSnapshot: async () => s,
    execute: async (action) => {
      executed.push(action);
      return [outcome];
    },
    policy,
    guard,
    logger,
    ...extra,
  };
  return { d, lines, executed };
}

describe('tick(deps) with stubs', () => {
  it('a breach is hedged to target and starts the cooldown; the tick line carries the figures', async () => {
    const { d, lines, executed } = deps(snapshot(8n), mined);
    const r = await tick(d, initial());
    expect(executed).toEqual([expect.objectContaining({ kind: 'adjustHedge', sizeDeltaWei: -2n * ETH })]);
    expect(r.state.policy.lastHedgeAtSec).toBe(Number(NOW));
    const line = lines().find((l) => l['event'] === 'tick');
    expect(line).toMatchObject({ block: '100', price: '$2000.00', deltaEth: '2.0000 ETH', decision: 'adjustHedge', inBand: false });
  });

  it('a hedge that failed does not start the cooldown, and is reported with its reason', async () => {
    const failed: TxOutcome = { status: 'reverted', label: 'perp.trade', stage: 'simulation', reason: 'StalePrice(1, 3600)' };
    const { d, lines } = deps(snapshot(8n), failed);
    const r = await tick(d, initial());
    expect(r.results[0]).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/StalePrice/) });
    expect(r.state.policy.lastHedgeAtSec).toBeNull();
    expect(lines().some((l) => l['event'] === 'action.skipped')).toBe(true);
  });

  it('the guard blocks what the plan wants beyond the caps: nothing is executed', async () => {
    const { d, executed, lines } = deps(snapshot(8n), mined, { guard: { ...guard, maxTradeWei: ETH } });
    const r = await tick(d, initial());
    expect(executed).toEqual([]);
    expect(r.results[0]?.outcome).toBe('blocked');
    expect(lines().find((l) => l['event'] === 'guard.blocked')?.['reason']).toMatch(/per-trade cap/);
  });

  it('insane data enters safe mode once, logs why, blocks hedging, and leaves when sane', async () => {
    const sanity = (s: Snapshot) => (s.oracle.updatedAtSec < NOW - 3600n ? 'oracle stale' : null);
    const stale = deps(snapshot(8n, { oracleAgeSec: 7200n }), mined, { checkSanity: sanity });
    const r1 = await tick(stale.d, initial());
    expect(stale.executed).toEqual([]);
    expect(r1.state.policy.safeMode).toEqual({ reason: 'oracle stale' });
    const r2 = await tick(stale.d, r1.state);
    expect(stale.lines().filter((l) => l['event'] === 'safe_mode.entered').length).toBe(1);
    const fresh = deps(snapshot(8n), mined, { checkSanity: sanity });
    const r3 = await tick(fresh.d, r2.state);
    expect(r3.state.policy.safeMode).toBeNull();
    expect(fresh.lines().some((l) => l['event'] === 'safe_mode.left')).toBe(true);
    expect(fresh.executed.length).toBe(1);
  });

  it('inside the band nothing is executed and the tick says why it holds', async () => {
    const { d, executed, lines } = deps(snapshot(10n), mined);
    await tick(d, initial());
    expect(executed).toEqual([]);
    expect(String(lines().find((l) => l['event'] === 'tick')?.['why'])).toMatch(/^in band/);
  });
});
