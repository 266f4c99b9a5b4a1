import { roundPriceToTick } from '../../venues/hyperliquid-rules.js';

/**
 * A synthetic order book per coin around the oracle price: `levels` price levels on each side,
 * `spacingBps` apart, `levelLots` each. What a taker consumes stays consumed until the oracle
 * price moves (or `refill`): so an IOC larger than the visible depth fills partially, and the
 * next order sees the thinner book, as on a real venue between market-maker requotes.
 */

export interface BookConfig {
  readonly levels: number;
  readonly spacingBps: number;
  /** Size per level, in lots (10^-szDecimals of the coin). */
  readonly levelLots: bigint;
}

export interface Level {
  readonly pxE8: bigint;
  readonly lots: bigint;
}

export interface BookFill {
  readonly pxE8: bigint;
  readonly lots: bigint;
}

const BPS = 10_000n;

export class SyntheticBook {
  private midE8 = 0n;
  private readonly consumed = new Map<string, bigint>();

  constructor(
    private readonly szDecimals: number,
    private config: BookConfig,
  ) {}

  configure(config: BookConfig): void {
    this.config = config;
    this.consumed.clear();
  }

  refill(): void {
    this.consumed.clear();
  }

  /** Re-centres on the oracle price; a new price is a requote, so consumed depth comes back. */
  setMid(midE8: bigint): void {
    if (midE8 !== this.midE8) {
      this.midE8 = midE8;
      this.consumed.clear();
    }
  }

  private side(isBid: boolean): Level[] {
    const out: Level[] = [];
    if (this.midE8 <= 0n) return out;
    for (let i = 0; i < this.config.levels; i++) {
      // Half a step off the mid, then whole steps: bids rounded down and asks up keep the spread open.
      const offset = BigInt(2 * i + 1) * BigInt(this.config.spacingBps);
      const raw = isBid ? (this.midE8 * (2n * BPS - offset)) / (2n * BPS) : (this.midE8 * (2n * BPS + offset) + 2n * BPS - 1n) / (2n * BPS);
      if (raw <= 0n) break;
      const pxE8 = roundPriceToTick(raw, 8, this.szDecimals, isBid ? 'down' : 'up');
      const left = this.config.levelLots - (this.consumed.get(`${isBid ? 'b' : 'a'}${pxE8}`) ?? 0n);
      if (left > 0n) out.push({ pxE8, lots: left });
    }
    return out;
  }

  /** [bids best first, asks best first], what is left of each level. */
  levels(): [Level[], Level[]] {
    return [this.side(true), this.side(false)];
  }

  midPriceE8(): bigint {
    return this.midE8;
  }

  /** Takes liquidity up to `lots` at prices no worse than the limit; what is not filled is the caller's to rest or cancel. */
  take(isBuy: boolean, limitPxE8: bigint, lots: bigint): BookFill[] {
    const fills: BookFill[] = [];
    let left = lots;
    for (const level of this.side(!isBuy)) {
      if (left === 0n) break;
      if (isBuy ? level.pxE8 > limitPxE8 : level.pxE8 < limitPxE8) break;
      const take = left < level.lots ? left : level.lots;
      const key = `${isBuy ? 'a' : 'b'}${level.pxE8}`;
      this.consumed.set(key, (this.consumed.get(key) ?? 0n) + take);
      fills.push({ pxE8: level.pxE8, lots: take });
      left -= take;
    }
    return fills;
  }

  /** Returns what `take` consumed (an order the margin check refused never traded). */
  giveBack(isBuy: boolean, fills: readonly BookFill[]): void {
    for (const f of fills) {
      const key = `${isBuy ? 'a' : 'b'}${f.pxE8}`;
      this.consumed.set(key, (this.consumed.get(key) ?? 0n) - f.lots);
    }
  }
}
