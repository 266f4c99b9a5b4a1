import { fmtEth, fmtPriceE8, fmtUsdc } from '../core/format.js';
import type { Assessment, Snapshot } from '../core/types.js';

function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/** The `keeper status` screen: one snapshot, readable. */
export function formatStatus(s: Snapshot, a: Assessment): string {
  const c = a.collateral;
  const hedgeRows: Array<readonly [string, string]> =
    s.hedge.venue === 'perp'
      ? [
          ['venue', 'perp exchange (isolated margin)'],
          ['position', `${fmtEth(s.hedge.sizeWei)} ETH @ ${fmtPriceE8(s.hedge.entryPriceE8)}`],
          ['margin', `${fmtUsdc(s.hedge.marginUnits)} USDC (account value ${fmtUsdc(s.hedge.accountValueUnits)})`],
        ]
      : [
          ['venue', 'Aave V3 (USDC collateral, WETH debt)'],
          ['debt', `${fmtEth(s.hedge.debtWei)} WETH`],
          ['collateral', `${fmtUsdc(s.hedge.collateralUnits)} aUSDC`],
        ];
  const ratioName = s.hedge.venue === 'perp' ? 'margin ratio' : 'health factor';
  const ratio = c.ratio.isFinite() ? c.ratio.toFixed(4) : 'no position';
  const lps = s.lps.map(
    (lp) =>
      [
        `LP #${lp.tokenId}`,
        `${fmtEth(lp.amountBaseWei)} ETH + ${fmtUsdc(lp.amountQuoteUnits)} USDC, ticks [${lp.tickLower}, ${lp.tickUpper}) ${lp.inRange ? 'in range' : 'OUT OF RANGE'}`,
      ] as const,
  );
  return [
    `block ${s.blockNumber} (chain ${s.chainId}), account ${s.account}`,
    '',
    'prices',
    table([
      ['oracle ETH/USD', `${fmtPriceE8(s.oracle.priceE8)} (age ${a.oracleAgeSec}s)`],
      ['Uniswap pool', `${fmtPriceE8(s.pool.priceE8)} (${a.poolOracleDivergenceBps} bps from the oracle)`],
    ]),
    '',
    'spot',
    table([
      ['wallet', `${fmtEth(s.wallet.wethWei)} WETH, ${fmtUsdc(s.wallet.usdcUnits)} USDC, ${fmtEth(s.wallet.ethWei)} ETH (gas)`],
      ...(lps.length ? lps : [['LP', 'none'] as const]),
    ]),
    '',
    'hedge',
    table(hedgeRows),
    '',
    'risk',
    table([
      ['spot delta', `${fmtEth(a.spotDeltaWei)} ETH (wallet ${fmtEth(a.walletDeltaWei)}, LP ${fmtEth(a.lpDeltaWei)})`],
      ['hedge delta', `${fmtEth(a.hedgeDeltaWei)} ETH (target ${fmtEth(a.targetHedgeWei)})`],
      ['net delta', `${fmtEth(a.netDeltaWei)} ETH = ${a.netDeltaUsd.toFixed(2)} USD`],
      ['band', `±${fmtEth(a.bandWei)} ETH around the target: ${a.inBand ? 'inside' : 'OUTSIDE'}`],
      [ratioName, `${ratio} (trigger ${fmtEth(c.triggerRatioE18)}, target ${fmtEth(c.targetRatioE18)}, liquidation ${fmtEth(c.liquidationRatioE18)})`],
      [
        'liquidation price',
        c.liquidationPriceE8 === null ? 'none' : `${fmtPriceE8(c.liquidationPriceE8)} (${c.distancePct?.toFixed(2)}% from the oracle)`,
      ],
    ]),
  ].join('\n');
}
