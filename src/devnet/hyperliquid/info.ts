import * as v from 'valibot';
import {
  AllMidsRequest,
  ClearinghouseStateRequest,
  L2BookRequest,
  MetaAndAssetCtxsRequest,
  MetaRequest,
  OpenOrdersRequest,
  OrderStatusRequest,
  UserFillsRequest,
  UserNonFundingLedgerUpdatesRequest,
} from '@nktkas/hyperliquid/api/info';
import { scaledToDecimal } from '../../venues/hyperliquid-rules.js';
import { accountValueE8, liquidationPxE8, maintenanceE8, notionalE8, totalNotionalE8, unrealizedE8 } from './clearinghouse.js';
import { lotsText, trimE8, type LocalHyperliquid } from './exchange.js';

/**
 * `POST /info` of the local exchange: each request type validated with the SDK's own schema and
 * answered in the venue's response shape (strings for every number, as the venue sends them).
 */

const usd = (e8: bigint): string => scaledToDecimal(e8 / 100n, 6);

function meta(ex: LocalHyperliquid) {
  return {
    universe: ex.coins.map((c) => ({ szDecimals: c.szDecimals, name: c.name, maxLeverage: c.maxLeverage, marginTableId: c.maxLeverage })),
    marginTables: [...new Set(ex.coins.map((c) => c.maxLeverage))].map((lev) => [
      lev,
      { description: '', marginTiers: [{ lowerBound: '0.0', maxLeverage: lev }] },
    ]),
    collateralToken: 0,
  };
}

function assetCtxs(ex: LocalHyperliquid) {
  return ex.coins.map((c) => {
    const px = trimE8(ex.priceOf(c.name));
    let oi = 0n;
    for (const acc of ex.accounts.values()) {
      const lots = acc.positions.get(c.name)?.lots ?? 0n;
      if (lots > 0n) oi += lots;
    }
    return {
      prevDayPx: px,
      dayNtlVlm: '0.0',
      markPx: px,
      midPx: px,
      funding: scaledToDecimal(ex.fundingE18.get(c.name)!, 18),
      openInterest: lotsText(oi, c.szDecimals),
      premium: '0.0',
      oraclePx: px,
      impactPxs: [px, px],
      dayBaseVlm: '0.0',
    };
  });
}

function clearinghouseState(ex: LocalHyperliquid, user: string) {
  const marks = ex.marks();
  const acc = ex.accounts.get(user.toLowerCase());
  const time = ex.now();
  if (acc === undefined) {
    const zero = { accountValue: '0.0', totalNtlPos: '0.0', totalRawUsd: '0.0', totalMarginUsed: '0.0' };
    return { marginSummary: zero, crossMarginSummary: zero, crossMaintenanceMarginUsed: '0.0', withdrawable: '0.0', assetPositions: [], time };
  }
  const av = accountValueE8(acc, marks);
  const ntl = totalNotionalE8(acc, marks);
  let rawUsd = acc.cashE8;
  let marginUsed = 0n;
  const assetPositions = [...acc.positions].map(([name, p]) => {
    const c = ex.coinByName.get(name)!;
    const mark = marks.markE8(name);
    const value = notionalE8(p.lots, mark, c.szDecimals);
    const upnl = unrealizedE8(c, p, mark);
    const used = value / BigInt(c.maxLeverage);
    marginUsed += used;
    rawUsd -= (p.lots * mark) / 10n ** BigInt(c.szDecimals);
    const liq = liquidationPxE8(acc, marks, c);
    return {
      type: 'oneWay' as const,
      position: {
        coin: name,
        szi: lotsText(p.lots, c.szDecimals),
        leverage: { type: 'cross' as const, value: c.maxLeverage },
        entryPx: trimE8(p.entryPxE8),
        positionValue: usd(value),
        unrealizedPnl: usd(upnl),
        returnOnEquity: used === 0n ? '0.0' : scaledToDecimal((upnl * 10n ** 8n) / used, 8),
        liquidationPx: liq === null ? null : trimE8(liq),
        marginUsed: usd(used),
        maxLeverage: c.maxLeverage,
        cumFunding: { allTime: usd(p.fundingAllTimeE8), sinceOpen: usd(p.fundingSinceOpenE8), sinceChange: usd(p.fundingSinceOpenE8) },
      },
    };
  });
  const summary = { accountValue: usd(av), totalNtlPos: usd(ntl), totalRawUsd: usd(rawUsd), totalMarginUsed: usd(marginUsed) };
  const withdrawable = av - marginUsed > 0n ? av - marginUsed : 0n;
  return {
    marginSummary: summary,
    crossMarginSummary: summary,
    crossMaintenanceMarginUsed: usd(maintenanceE8(acc, marks)),
    withdrawable: usd(withdrawable),
    assetPositions,
    time,
  };
}

function l2Book(ex: LocalHyperliquid, coin: string) {
  const book = ex.books.get(coin);
  if (book === undefined) return null;
  const c = ex.coinByName.get(coin)!;
  const side = (levels: { pxE8: bigint; lots: bigint }[]) => levels.map((l) => ({ px: trimE8(l.pxE8), sz: lotsText(l.lots, c.szDecimals), n: 1 }));
  const [bids, asks] = book.levels();
  return { coin, time: ex.now(), levels: [side(bids), side(asks)] };
}

function userFills(ex: LocalHyperliquid, user: string) {
  const acc = ex.accounts.get(user.toLowerCase());
  if (acc === undefined) return [];
  return [...acc.fills].reverse().map((f) => {
    const c = ex.coinByName.get(f.coin)!;
    const opening = f.startLots === 0n || f.startLots > 0n === f.isBuy;
    const dir = `${opening ? 'Open' : 'Close'} ${(opening ? f.isBuy : f.startLots > 0n) ? 'Long' : 'Short'}`;
    return {
      coin: f.coin,
      px: trimE8(f.pxE8),
      sz: lotsText(f.lots, c.szDecimals),
      side: f.isBuy ? ('B' as const) : ('A' as const),
      time: f.timeMs,
      startPosition: lotsText(f.startLots, c.szDecimals),
      dir,
      closedPnl: usd(f.closedPnlE8),
      hash: `0x${f.tid.toString(16).padStart(64, '0')}`,
      oid: f.oid,
      crossed: true,
      fee: usd(f.feeE8),
      tid: f.tid,
      feeToken: 'USDC',
      twapId: null,
      ...(f.liquidation ? { liquidation: { liquidatedUser: user.toLowerCase(), markPx: trimE8(f.pxE8), method: 'market' as const } } : {}),
    };
  });
}

function openOrders(ex: LocalHyperliquid, user: string) {
  return ex.openOrders
    .filter((o) => o.user === user.toLowerCase())
    .map((o) => {
      const c = ex.coinByName.get(o.coin)!;
      return {
        coin: o.coin,
        side: o.isBuy ? 'B' : 'A',
        limitPx: trimE8(o.pxE8),
        sz: lotsText(o.lots, c.szDecimals),
        oid: o.oid,
        timestamp: o.timeMs,
        origSz: lotsText(o.origLots, c.szDecimals),
        ...(o.cloid !== undefined ? { cloid: o.cloid } : {}),
        ...(o.reduceOnly ? { reduceOnly: true } : {}),
      };
    });
}

/**
 * `orderStatus` by oid or cloid, in the venue's shape. An IOC's unfilled rest is reported as a
 * `canceled` order whose `sz` is what did not fill (filled = origSz − sz).
 */
function orderStatus(ex: LocalHyperliquid, user: string, oid: number | string) {
  const found = ex.orderOf(user, oid);
  if (found === null) return { status: 'unknownOid' };
  const { h } = found;
  const c = ex.coinByName.get(h.coin)!;
  return {
    status: 'order',
    order: {
      order: {
        coin: h.coin, side: h.isBuy ? 'B' : 'A', limitPx: trimE8(h.pxE8), sz: lotsText(h.remainingLots, c.szDecimals), oid: found.oid,
        timestamp: h.timeMs, triggerCondition: 'N/A', isTrigger: false, triggerPx: '0.0', children: [], isPositionTpsl: false,
        reduceOnly: h.reduceOnly, orderType: 'Limit', origSz: lotsText(h.origLots, c.szDecimals), tif: h.tif, cloid: h.cloid ?? null,
      },
      status: h.status,
      statusTimestamp: h.statusTimeMs,
    },
  };
}

function ledgerUpdates(ex: LocalHyperliquid, user: string, startTime: number | undefined, endTime: number | null | undefined) {
  const u = user.toLowerCase();
  return ex.ledger
    .filter((l) => l.user === u && l.time >= (startTime ?? 0) && (endTime === undefined || endTime === null || l.time <= endTime))
    .map((l) => ({ time: l.time, hash: l.hash, delta: l.delta }));
}

/** The answer to one `/info` body, or null when the body is not a request this exchange serves. */
export function answerInfo(ex: LocalHyperliquid, body: unknown): unknown {
  const type = (body as { type?: unknown } | null)?.type;
  switch (type) {
    case 'meta':
      v.parse(MetaRequest, body);
      return meta(ex);
    case 'metaAndAssetCtxs':
      v.parse(MetaAndAssetCtxsRequest, body);
      return [meta(ex), assetCtxs(ex)];
    case 'allMids':
      v.parse(AllMidsRequest, body);
      return Object.fromEntries(ex.coins.map((c) => [c.name, trimE8(ex.priceOf(c.name))]));
    case 'l2Book':
      return l2Book(ex, v.parse(L2BookRequest, body).coin);
    case 'clearinghouseState':
      return clearinghouseState(ex, v.parse(ClearinghouseStateRequest, body).user);
    case 'openOrders':
      return openOrders(ex, v.parse(OpenOrdersRequest, body).user);
    case 'userFills':
      return userFills(ex, v.parse(UserFillsRequest, body).user);
    case 'orderStatus': {
      const r = v.parse(OrderStatusRequest, body);
      return orderStatus(ex, r.user, r.oid);
    }
    case 'userNonFundingLedgerUpdates': {
      const r = v.parse(UserNonFundingLedgerUpdatesRequest, body);
      return ledgerUpdates(ex, r.user, r.startTime, r.endTime);
    }
    default:
      return undefined;
  }
}
