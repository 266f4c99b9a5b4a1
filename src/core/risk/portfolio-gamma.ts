import { lpGammaBasePerUsd } from '../band-policy.js';
import type { LpPosition } from '../types.js';
import type { AssetId, LpHolding, PoolSpec, QuoteSpec } from '../../portfolio/model.js';

/**
 * The LP gamma of a portfolio as a matrix G in USD per unit log return squared, so that the
 * second-order P&L of a move r (log returns of the assets' USD prices, in `assets` order) is
 * ½ r'Gr. A position in a pool of base b against token o has gamma Γ (base per o-unit, from
 * lpGammaBasePerUsd: the one place that formula lives) in the relative price P = S_b / S_o,
 * whose log move is r_b - r_o; its P&L ½ Γ P² (r_b - r_o)² in o-units is × S_o in USD. Against
 * the quote (r_o = 0) that is one diagonal term; between two assets (WBTC/WETH) it also couples
 * them. An LP out of range has no gamma. Short gamma: every entry on the diagonal is ≤ 0.
 */
export function lpGammaMatrixUsd(
  assets: readonly { id: AssetId; decimals: number }[],
  pools: readonly PoolSpec[],
  quote: Pick<QuoteSpec, 'id' | 'decimals'>,
  lps: readonly LpHolding[],
  pricesE8: Readonly<Record<string, bigint>>,
  quotePriceE8: bigint,
): number[][] | null {
  const k = assets.length;
  let g: number[][] | null = null;
  const index = (id: string) => assets.findIndex((a) => a.id === id);
  const decimalsOf = (id: string) => (id === quote.id ? quote.decimals : assets.find((a) => a.id === id)?.decimals);
  const priceOf = (id: string) => (id === quote.id ? quotePriceE8 : pricesE8[id] ?? 0n);
  for (const lp of lps) {
    if (!lp.inRange || lp.liquidity === 0n) continue;
    const pool = pools.find((p) => p.id === lp.pool);
    if (!pool) continue;
    const baseIsToken0 = index(pool.token0) >= 0;
    const [base, other] = baseIsToken0 ? [pool.token0, pool.token1] : [pool.token1, pool.token0];
    const bi = index(base);
    const oi = index(other);
    const bd = decimalsOf(base);
    const od = decimalsOf(other);
    const sb = priceOf(base);
    const so = priceOf(other);
    if (bi < 0 || bd === undefined || od === undefined || sb <= 0n || so <= 0n || (oi < 0 && other !== quote.id)) continue;
    const relE8 = (sb * 100_000_000n) / so;
    const position: LpPosition = {
      tokenId: lp.tokenId, liquidity: lp.liquidity, tickLower: lp.tickLower, tickUpper: lp.tickUpper, inRange: lp.inRange, baseIsToken0,
      amountBaseWei: 0n, amountQuoteUnits: 0n, feesBaseWei: 0n, feesQuoteUnits: 0n,
    };
    const gammaPerOther = lpGammaBasePerUsd([position], relE8, bd, od);
    if (gammaPerOther === 0) continue;
    const rel = Number(relE8) / 1e8;
    const c = gammaPerOther * rel * rel * (Number(so) / 1e8);
    g ??= Array.from({ length: k }, () => new Array<number>(k).fill(0));
    g[bi]![bi]! += c;
    if (oi >= 0) {
      g[oi]![oi]! += c;
      g[bi]![oi]! -= c;
      g[oi]![bi]! -= c;
    }
  }
  return g;
}
