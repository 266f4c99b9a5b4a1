import type { LpPosition, Snapshot } from './types.js';
import { absBig } from './format.js';
import { hedgeSizeWei } from './margin.js';

/**
 * Exposures in base-asset wei, long positive. Spot = what we hold (wallet + LP), hedge = what
 * offsets it on the venue. Native ETH is the gas tank by default, so it is excluded unless the
 * policy says otherwise.
 */
export interface Exposures {
  walletDeltaWei: bigint;
  lpDeltaWei: bigint;
  spotDeltaWei: bigint;
  hedgeDeltaWei: bigint;
  netDeltaWei: bigint;
  grossSpotWei: bigint;
}

export function walletDeltaWei(snapshot: Snapshot, includeNativeEth: boolean): bigint {
  return snapshot.wallet.wethWei + (includeNativeEth ? snapshot.wallet.ethWei : 0n);
}

/** Base amount of one LP position: principal at the current price plus uncollected base fees. */
export function lpPositionDeltaWei(lp: LpPosition): bigint {
  return lp.amountBaseWei + lp.feesBaseWei;
}

export function lpDeltaWei(lps: readonly LpPosition[]): bigint {
  return lps.reduce((sum, lp) => sum + lpPositionDeltaWei(lp), 0n);
}

export function exposures(snapshot: Snapshot, includeNativeEth: boolean): Exposures {
  const wallet = walletDeltaWei(snapshot, includeNativeEth);
  const lp = lpDeltaWei(snapshot.lps);
  const spot = wallet + lp;
  const hedge = hedgeSizeWei(snapshot.hedge);
  return {
    walletDeltaWei: wallet,
    lpDeltaWei: lp,
    spotDeltaWei: spot,
    hedgeDeltaWei: hedge,
    netDeltaWei: spot + hedge,
    grossSpotWei: absBig(wallet) + absBig(lp),
  };
}
