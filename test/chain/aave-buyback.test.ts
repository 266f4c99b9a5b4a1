import { erc20Abi } from 'viem';
import { describe, expect, it } from 'vitest';
import { aavePoolAbi } from '../../src/devnet/aave-artifacts.js';
import { confirm } from '../../src/devnet/confirm.js';
import { useDevnet } from '../helpers/devnet.js';
import { portfolioKeeperOn, setPortfolioPrices } from '../helpers/portfolio-keeper.js';

/**
 * A short on Aave shrinks by buying the asset back with quote. When the wallet has no quote left
 * (it all went into the venues as collateral: the backtest found the keeper stuck there for
 * thousands of hours), the buy-back draws what it needs from the Aave account's own quote
 * collateral first, only what keeps its health factor above the trigger; repaying then raises it.
 */

const E8 = 10n ** 8n;
const ETH = 10n ** 18n;

describe('an Aave buy-back with an empty wallet', () => {
  const devnet = useDevnet();

  it('withdraws the shortfall from the account, buys back, repays: debt down, health factor above the trigger', async () => {
    const d = devnet();
    const me = d.as('portfolioDemo');
    const account = me.walletClient.account.address;
    const a = d.addresses;
    // Everything the wallet holds in USDC leaves it.
    const usdc = await me.publicClient.readContract({ address: a.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [account] });
    await confirm(me, me.walletClient.writeContract({ address: a.usdc, abi: erc20Abi, functionName: 'transfer', args: [d.address('deployer'), usdc] }), 'drain');
    const { keeper } = await portfolioKeeperOn(d, {
      // BTC's band wide. ETH's last-filled instrument is Aave (priority 2): a reduction comes off it first.
      yaml: (y) =>
        y.replace(/^ {4}BTC: \{ hedgeRatio.*$/m, '    BTC: { hedgeRatio: 1, band: 100, bandPct: 0, hysteresis: 0.5, minTrade: 0.0005, maxTrade: 2, maxNotionalPerDayUsd: 100000000 }'),
    });
    const debt = () => me.publicClient.readContract({ address: a.aave.variableDebtWeth, abi: erc20Abi, functionName: 'balanceOf', args: [account] });
    const before = await debt();
    // ETH +3%: the LPs hold less ETH, the short shrinks on its last-filled instrument, Aave.
    await setPortfolioPrices(d, { eth: 2_060n * E8, btc: 60_000n * E8 });
    const r = await keeper.tickOnce();
    const repay = r.plan.actions.find((x) => x.kind === 'adjustHedge' && x.venue === 'aave' && x.asset === 'ETH');
    expect(repay?.kind === 'adjustHedge' && repay.sizeDeltaUnits).toBeGreaterThan(0n);
    const res = r.results.find((x) => x.action === repay)!;
    expect(res.outcome, res.reason).toBe('done');
    const labels = res.txs.map((t) => t.label);
    expect(labels).toContain('aave.repay ETH');
    const release = labels.find((l) => l.startsWith('aave.release '));
    expect(release).toMatch(/^aave\.release \d+ USDC for the buy-back$/);
    const releasedUnits = BigInt(release!.split(' ')[1]!);
    expect(releasedUnits).toBeGreaterThan(0n);
    const size = repay?.kind === 'adjustHedge' ? repay.sizeDeltaUnits : 0n;
    const after = await debt();
    expect(before - after - size).toBeLessThan(ETH / 10n ** 6n); // the buy-back, less a block of interest
    expect(before - after - size).toBeGreaterThan(-(ETH / 10n ** 6n));
    const [, , , , , hf] = await me.publicClient.readContract({ address: a.aave.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [account] });
    expect(hf).toBeGreaterThanOrEqual(13n * 10n ** 17n);
    // The wallet started empty: what is left of the release is the worst case's margin over the
    // price paid (a few percent at most), so the release was sized on the buy-back, not more.
    expect(await me.publicClient.readContract({ address: a.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [account] })).toBeLessThanOrEqual(releasedUnits / 20n);
    // The next interval's attribution counts the release as a flow out of Aave, not as a loss:
    // what it cannot name (the swap's price beyond its fee tier) is a sliver of what was released.
    const next = await keeper.tickOnce();
    const x = next.pnl!.interval;
    const abs = (v: bigint) => (v < 0n ? -v : v);
    expect(abs(x.unexplained) * 100n).toBeLessThan(releasedUnits * 100n);
    expect(abs(x.fundingInterest) * 100n).toBeLessThan(releasedUnits * 100n);
    keeper.close();
  });
});
