import { describe, expect, it } from 'vitest';
import { BaseError, ContractFunctionRevertedError } from 'viem';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import { rampPath, takePrices } from '../../src/devnet/price-path.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { E8, keeperOn, setMarketPrice } from '../helpers/keeper.js';

/** ETH rallies 30% in 10 steps: the adverse move for the short hedge. */
const PATH = takePrices(rampPath(2_000n * E8, 2_600n * E8, 10), 11).slice(1);

async function liquidate(d: Devnet): Promise<{ ok: true; penalty: bigint } | { ok: false; error: string }> {
  const { publicClient, walletClient } = d.as('liquidator');
  const args = [d.addresses.demo.perp.account, BigInt(d.addresses.perpMarketId)] as const;
  try {
    const { request, result } = await publicClient.simulateContract({
      account: walletClient.account,
      address: d.addresses.perp,
      abi: perpExchangeAbi,
      functionName: 'liquidate',
      args,
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await walletClient.writeContract(request) });
    expect(receipt.status).toBe('success');
    return { ok: true, penalty: result };
  } catch (err) {
    const reverted = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    const name = reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
    return { ok: false, error: name ?? String(err) };
  }
}

describe('a 30% adverse move (ETH +30%) against the perp-hedged demo', () => {
  const devnet = useDevnet();

  it('with the keeper stopped, a third party liquidates the account', async () => {
    const d = devnet();
    for (const price of PATH) await setMarketPrice(d, price);
    const result = await liquidate(d);
    expect(result.ok).toBe(true);
    const acct = await d.as('perpDemo').publicClient.readContract({
      address: d.addresses.perp,
      abi: perpExchangeAbi,
      functionName: 'getAccount',
      args: [d.addresses.demo.perp.account, BigInt(d.addresses.perpMarketId)],
    });
    expect(acct.sizeWei).toBe(0n); // the hedge is gone: the portfolio is naked long
  });

  it('with the keeper running, the account survives and cannot be liquidated', async () => {
    const d = devnet();
    const { keeper, config } = await keeperOn(d);
    let actions = 0;
    for (const price of PATH) {
      await setMarketPrice(d, price);
      const r = await keeper.tickOnce();
      actions += r.results.length;
      expect(r.results.every((x) => x.outcome === 'done')).toBe(true);
    }
    // As ETH rallies the LP sells its ETH: the keeper buys back the short (and tops up if needed).
    expect(actions).toBeGreaterThan(0);
    const final = await keeper.tickOnce();
    expect(final.assessment.collateral.ratioE18).toBeGreaterThan(config.policy.marginTriggerE18);
    expect(final.assessment.inBand).toBe(true);
    expect(await liquidate(d)).toEqual({ ok: false, error: 'NotLiquidatable' });
  });
});
