import { describe, expect, it } from 'vitest';
import { LENDING_CALL_GAS } from '../../src/devnet/confirm.js';
import { erc20Abi, maxUint256, parseEther } from 'viem';
import { poolAbi, variableDebtTokenAbi, weth9Abi } from '../../contracts-abi/index.js';
import { arbitragePoolToPrice } from '../../src/devnet/uniswap.js';
import { aaveHealthFactorE18 } from '../../src/venues/aave-math.js';
import type { AaveVenueAccount } from '../../src/venues/aave.js';
import { useDevnet } from '../helpers/devnet.js';
import { E8, abs, keeperOn, setMarketPrice } from '../helpers/keeper.js';

const E18 = 10n ** 18n;

describe('keeper loop on the Aave V3 venue (devnet)', () => {
  const devnet = useDevnet();

  /** The demo account on Aave, read at one block (the latest by default). */
  const aaveState = async (blockNumber?: bigint) => {
    const d = devnet();
    const { publicClient } = d.as('aaveDemo');
    const user = d.addresses.demo.aave.account;
    const at = blockNumber === undefined ? {} : { blockNumber };
    const [data, collateralUnits, debtWei, scaledDebt] = await Promise.all([
      publicClient.readContract({ ...at, address: d.addresses.aave.pool, abi: poolAbi, functionName: 'getUserAccountData', args: [user] }),
      publicClient.readContract({ ...at, address: d.addresses.aave.aUsdc, abi: erc20Abi, functionName: 'balanceOf', args: [user] }),
      publicClient.readContract({ ...at, address: d.addresses.aave.variableDebtWeth, abi: erc20Abi, functionName: 'balanceOf', args: [user] }),
      publicClient.readContract({ ...at, address: d.addresses.aave.variableDebtWeth, abi: variableDebtTokenAbi, functionName: 'scaledBalanceOf', args: [user] }),
    ]);
    return { healthFactorE18: data[5], totalCollateralBaseE8: data[0], collateralUnits, debtWei, scaledDebt };
  };
  const nonce = async () => {
    const d = devnet();
    return d.as('aaveDemo').publicClient.getTransactionCount({ address: d.addresses.demo.aave.account });
  };

  /** The account owner withdraws USDC collateral down to health factor `hfE2` / 100 (wallet keeps it). */
  const squeezeTo = async (hfE2: bigint) => {
    const d = devnet();
    const s = await aaveState();
    const keepUnits = (s.collateralUnits * hfE2 * E18) / (100n * s.healthFactorE18);
    const { walletClient, publicClient } = d.as('aaveDemo');
    const hash = await walletClient.writeContract({
      address: d.addresses.aave.pool,
      abi: poolAbi,
      functionName: 'withdraw',
      args: [d.addresses.usdc, s.collateralUnits - keepUnits, d.addresses.demo.aave.account],
      gas: LENDING_CALL_GAS,
    });
    expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
  };

  /** The liquidator role tries to repay half the demo's debt; returns the debt change or the revert. */
  const liquidate = async (): Promise<{ ok: true; repaidWei: bigint } | { ok: false; error: string }> => {
    const d = devnet();
    const { walletClient, publicClient } = d.as('liquidator');
    const a = d.addresses;
    const fund = await walletClient.writeContract({ address: a.weth, abi: weth9Abi, functionName: 'deposit', value: parseEther('100') });
    await publicClient.waitForTransactionReceipt({ hash: fund });
    const ok = await walletClient.writeContract({ address: a.weth, abi: erc20Abi, functionName: 'approve', args: [a.aave.pool, maxUint256] });
    await publicClient.waitForTransactionReceipt({ hash: ok });
    const before = (await aaveState()).debtWei;
    const args = [a.usdc, a.weth, a.demo.aave.account, maxUint256, false] as const;
    try {
      await publicClient.simulateContract({ account: walletClient.account, address: a.aave.pool, abi: poolAbi, functionName: 'liquidationCall', args });
    } catch (err) {
      return { ok: false, error: String((err as Error).message) };
    }
    const hash = await walletClient.writeContract({ address: a.aave.pool, abi: poolAbi, functionName: 'liquidationCall', args, gas: LENDING_CALL_GAS });
    expect((await publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
    return { ok: true, repaidWei: before - (await aaveState()).debtWei };
  };

  it('the health factor the keeper computes equals getUserAccountData in the same block, across price moves', async () => {
    const d = devnet();
    // Wide band, low trigger: the keeper only reads and assesses.
    const { keeper } = await keeperOn(d, { HEDGE_VENUE: 'aave', DELTA_BAND_ETH: '1000', HF_TRIGGER: '1.01', HF_TARGET: '1.02' });
    const seen = new Set<bigint>();
    for (const priceE8 of [2_000n, 2_150n, 1_830n, 2_410n, 1_999n].map((p) => p * E8 + 12_345_678n)) {
      await setMarketPrice(d, priceE8);
      const r = await keeper.tickOnce();
      expect(r.plan.actions).toEqual([]);
      const aave = await aaveState(r.snapshot.blockNumber);
      const ours = r.assessment.collateral.ratioE18;
      // |ours - aave| / aave <= 1e-9 (in fact equal: same inputs, same rounding).
      expect(abs(ours - aave.healthFactorE18) * 10n ** 9n).toBeLessThanOrEqual(aave.healthFactorE18);
      expect(ours).toBe(aave.healthFactorE18);
      expect(r.assessment.collateral.venueRatioE18).toBe(aave.healthFactorE18);
      // Aave's oracle and the keeper's feed agree on the devnet (the same feeds).
      const h = r.snapshot.hedge as AaveVenueAccount;
      expect(h.aaveWethPriceE8).toBe(priceE8);
      expect(h.aaveUsdcPriceE8).toBe(r.snapshot.oracle.quotePriceE8);
      expect(h.debtWei).toBe(aave.debtWei);
      expect(h.collateralUnits).toBe(aave.collateralUnits);
      seen.add(ours);
    }
    expect(seen.size).toBe(5); // the prices really moved the health factor
  });

  it('a fall outside the band is hedged by borrow + sell: more WETH debt, |delta| back inside the band', async () => {
    const d = devnet();
    const { keeper } = await keeperOn(d, { HEDGE_VENUE: 'aave' });
    const before = await aaveState();
    const usdcBefore = await d.as('aaveDemo').publicClient.readContract({ address: d.addresses.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [d.addresses.demo.aave.account] });
    await setMarketPrice(d, 1_900n * E8); // -5%: the LP buys ETH, spot delta grows
    const first = await keeper.tickOnce();
    expect(first.assessment.inBand).toBe(false);
    // The bigger debt would leave HF under 1.3: the planner tops up first, sized for after the hedge.
    expect(first.plan.actions.map((a) => a.kind)).toEqual(['topUp', 'adjustHedge']);
    const action = first.plan.actions[1];
    const sizeWei = action?.kind === 'adjustHedge' ? action.sizeDeltaWei : 0n;
    expect(sizeWei).toBeLessThan(0n);
    expect(first.results.map((r) => r.outcome)).toEqual(['done', 'done']);
    expect(first.results[1]?.txs.map((t) => t.label).filter((l) => !l.startsWith('approve'))).toEqual(['aave.borrow WETH', 'uniswap.exactInputSingle WETH->USDC']);
    const after = await aaveState();
    expect(after.healthFactorE18).toBeGreaterThanOrEqual(1_600_000_000_000_000_000n - 10n ** 12n);
    // The debt grew by the borrow (plus a few seconds of interest, less 1 wei of Aave's half-up
    // rounding of scaled balances), the sale paid USDC into the wallet.
    expect(after.debtWei - before.debtWei).toBeGreaterThanOrEqual(-sizeWei - 1n);
    expect(after.debtWei - before.debtWei).toBeLessThan(-sizeWei + parseEther('0.0001'));
    const usdcAfter = await d.as('aaveDemo').publicClient.readContract({ address: d.addresses.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [d.addresses.demo.aave.account] });
    const topUpUnits = first.plan.actions[0]?.kind === 'topUp' ? first.plan.actions[0].amountUnits : 0n;
    const proceeds = usdcAfter - usdcBefore + topUpUnits;
    expect(proceeds).toBeGreaterThanOrEqual(((-sizeWei * 1_900n * E8) / 10n ** 20n) * 9_950n / 10_000n); // within 50 bps
    const check = await keeper.tickOnce();
    expect(check.assessment.inBand).toBe(true);
    expect(abs(check.assessment.deviationWei)).toBeLessThanOrEqual(check.assessment.bandWei);
    expect(check.plan.actions).toEqual([]);
  });

  it('a rise outside the band is hedged by buy + repay: less WETH debt, |delta| back inside the band', async () => {
    const d = devnet();
    const { keeper } = await keeperOn(d, { HEDGE_VENUE: 'aave' });
    const before = await aaveState();
    await setMarketPrice(d, 2_100n * E8); // +5%: the LP sells ETH, the short is too big
    const first = await keeper.tickOnce();
    expect(first.assessment.inBand).toBe(false);
    const [action] = first.plan.actions;
    const sizeWei = action?.kind === 'adjustHedge' ? action.sizeDeltaWei : 0n;
    expect(sizeWei).toBeGreaterThan(0n);
    expect(first.results.map((r) => r.outcome)).toEqual(['done']);
    expect(first.results[0]?.txs.map((t) => t.label).filter((l) => !l.startsWith('approve'))).toEqual(['uniswap.exactOutputSingle USDC->WETH', 'aave.repay WETH']);
    const after = await aaveState();
    const repaidWei = before.debtWei - after.debtWei;
    // Exactly the planned amount left the debt, less the interest accrued meanwhile (and 1 wei
    // of Aave's half-up rounding of scaled balances).
    expect(repaidWei).toBeLessThanOrEqual(sizeWei + 1n);
    expect(repaidWei).toBeGreaterThan(sizeWei - parseEther('0.0001'));
    const check = await keeper.tickOnce();
    expect(check.assessment.inBand).toBe(true);
    expect(abs(check.assessment.deviationWei)).toBeLessThanOrEqual(check.assessment.bandWei);
  });

  it('a health factor under the trigger is topped up to the target, not overfunded', async () => {
    const d = devnet();
    // Only the health factor breaches: a wide band keeps the hedge untouched.
    const { keeper, config } = await keeperOn(d, { HEDGE_VENUE: 'aave', DELTA_BAND_ETH: '100' });
    await setMarketPrice(d, 2_500n * E8); // HF 1.6 * 2000 / 2500 = 1.28 < 1.3
    const before = await aaveState();
    expect(before.healthFactorE18).toBeLessThan(config.policy.hfTriggerE18);
    const r = await keeper.tickOnce();
    expect(r.plan.actions.map((a) => a.kind)).toEqual(['topUp']);
    expect(r.results[0]?.outcome).toBe('done');
    const after = await aaveState();
    const topUp = r.plan.actions[0]?.kind === 'topUp' ? r.plan.actions[0].amountUnits : 0n;
    expect(after.collateralUnits - before.collateralUnits).toBe(topUp); // aUSDC minted 1:1 (no USDC borrowers: index 1)
    // The amount is the smallest that reaches the target at the block it was planned on; the debt
    // keeps accruing interest until the supply is mined (a few seconds on a loaded machine, about
    // 1e-10 of the health factor), so the target is met to within a part per million.
    expect(after.healthFactorE18).toBeGreaterThanOrEqual(config.policy.hfTargetE18 - config.policy.hfTargetE18 / 1_000_000n);
    expect(after.healthFactorE18).toBeLessThan((config.policy.hfTargetE18 * 1_001n) / 1_000n); // within 0.1%
    // And Aave agrees with the keeper's own figure for the new state.
    const next = await keeper.tickOnce();
    expect(next.assessment.collateral.ratioE18).toBe((await aaveState(next.snapshot.blockNumber)).healthFactorE18);
  });

  /** ETH +30% in 10 steps from an account squeezed to HF 1.25 (trigger 1.2, target 1.5). */
  const crashEnv = { HEDGE_VENUE: 'aave', HF_TRIGGER: '1.2', HF_TARGET: '1.5' };
  const path = Array.from({ length: 10 }, (_, i) => 2_000n * E8 + (BigInt(i + 1) * 600n * E8) / 10n);

  it('a 30% adverse move is survived while the keeper runs: HF > 1, liquidationCall reverts 45', async () => {
    const d = devnet();
    await squeezeTo(125n);
    const debtBefore = (await aaveState()).debtWei;
    const { keeper } = await keeperOn(d, crashEnv);
    const outcomes: string[] = [];
    for (const priceE8 of path) {
      await setMarketPrice(d, priceE8);
      const r = await keeper.tickOnce();
      outcomes.push(...r.results.map((x) => `${x.action.kind}:${x.outcome}`));
    }
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.every((o) => o.endsWith(':done'))).toBe(true);
    // As the LP sells its ETH on the way up, the keeper buys WETH back and repays: the shrinking
    // debt is what keeps the health factor up (from 1.25 at the start).
    expect(outcomes).toContain('adjustHedge:done');
    expect((await aaveState()).debtWei).toBeLessThan(debtBefore / 2n);
    const end = await aaveState();
    expect(end.healthFactorE18).toBeGreaterThan(E18);
    const liq = await liquidate();
    expect(liq.ok).toBe(false);
    expect(liq.ok ? '' : liq.error).toMatch(/\b45\b/); // HEALTH_FACTOR_NOT_BELOW_THRESHOLD
  });

  it('the same move with the keeper stopped ends in a liquidation by the liquidator', async () => {
    const d = devnet();
    await squeezeTo(125n);
    for (const priceE8 of path) await setMarketPrice(d, priceE8);
    const end = await aaveState();
    expect(end.healthFactorE18).toBeLessThan(E18); // 1.25 / 1.3 = 0.96
    const liq = await liquidate();
    expect(liq.ok).toBe(true);
    expect(liq.ok ? liq.repaidWei : 0n).toBeGreaterThan(0n);
  });

  it('a sale the quote says would break the slippage bound is not sent, and not retried blindly', async () => {
    const d = devnet();
    // A low HF trigger keeps the top-up out of it: only the hedge leg is planned.
    // A wide pool/oracle deviation limit keeps safe mode out of it too: this is the venue's own
    // quote check (safe mode would also refuse; see the chaos suite).
    const { keeper } = await keeperOn(d, { HEDGE_VENUE: 'aave', MAX_SLIPPAGE_BPS: '30', HF_TRIGGER: '1.05', HF_TARGET: '1.1', MAX_POOL_DEVIATION_BPS: '1000' });
    // The market maker dumps WETH into the pool to 1900 while the oracle stays at 2000: the LP
    // now holds more ETH (the keeper wants to short more) but the pool pays 5% under the oracle.
    const a = d.addresses;
    await arbitragePoolToPrice(d.as('marketMaker'), { pool: a.uniswap.pool, swapRouter: a.uniswap.swapRouter, weth: a.weth, usdc: a.usdc, targetPriceE8: 1_900n * E8 });
    const before = await aaveState();
    const nonceBefore = await nonce();
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await keeper.tickOnce();
      expect(r.plan.actions.map((x) => (x.kind === 'adjustHedge' && x.sizeDeltaWei < 0n ? 'shortMore' : x.kind))).toEqual(['shortMore']);
      expect(r.results[0]?.outcome).toBe('failed');
      expect(r.results[0]?.reason).toMatch(/exactInputSingle.*below the minimum.*not sent/);
      expect(r.state.policy.lastHedgeAtSec).toBeNull(); // a refused hedge does not start the cooldown
    }
    expect(await nonce()).toBe(nonceBefore); // nothing was sent, not even an approval
    expect((await aaveState()).scaledDebt).toBe(before.scaledDebt); // no borrow
  });

  it('the keeper value of HF is what Aave math gives from the adapter read (no hidden inputs)', async () => {
    const d = devnet();
    const { keeper } = await keeperOn(d, { HEDGE_VENUE: 'aave', DELTA_BAND_ETH: '1000', HF_TRIGGER: '1.01', HF_TARGET: '1.02' });
    const r = await keeper.tickOnce();
    const h = r.snapshot.hedge as AaveVenueAccount;
    expect(h.liquidationThresholdBps).toBe(8_000n);
    expect(h.ltvBps).toBe(7_700n);
    expect(aaveHealthFactorE18({ collateralUnits: h.collateralUnits, usdcPriceE8: h.aaveUsdcPriceE8, debtWei: h.debtWei, wethPriceE8: h.aaveWethPriceE8, liquidationThresholdBps: h.liquidationThresholdBps })).toBe(h.healthFactorE18);
  });
});
