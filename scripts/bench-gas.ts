/**
 * Gas per keeper action against the bare contract call doing the same thing, from the same
 * account on the same chain state (evm_snapshot / evm_revert): what the keeper adds on top of
 * the protocol's own cost.
 */
import type { Hex } from 'viem';
import { erc20Abi, maxUint256 } from 'viem';
import { perpExchangeAbi, priceFeedAbi } from '../contracts-abi/index.js';
import { createAnvilTestClient } from '../src/chain/clients.js';
import { movePrice } from '../src/devnet/market-driver.js';
import { acceptablePriceE8 } from '../src/venues/perp.js';
import type { ActionResult } from '../src/runner/tick.js';
import { benchKeeper, log, type BenchDevnet } from './bench-env.js';

export interface GasTx {
  label: string;
  /** Decimal string: gas is an on-chain amount, never a float. */
  gasUsed: string;
}

export interface GasComparison {
  action: 'adjustHedge' | 'topUp';
  /** Every transaction the keeper sent for the action, gas from its receipt. */
  keeperTxs: GasTx[];
  keeperTotalGas: string;
  /** The same protocol call sent directly (no keeper), same account, same state. */
  bare: GasTx[];
  bareCallGas: string;
  /** Keeper's call minus the bare call (same function, same arguments). */
  callOverheadGas: string;
  note: string;
}

const E8 = 10n ** 8n;

async function receiptGas(d: BenchDevnet, hash: Hex): Promise<bigint> {
  // Wait: automine answers the send before the receipt is always queryable.
  const r = await d.as('perpDemo').publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (r.status !== 'success') throw new Error(`bench gas: ${hash} reverted`);
  return r.gasUsed;
}

async function keeperAction(d: BenchDevnet, env: Record<string, string>, kind: 'adjustHedge' | 'topUp'): Promise<ActionResult> {
  const k = await benchKeeper(d, { env });
  try {
    const r = await k.keeper.tickOnce();
    const done = r.results.find((x) => x.action.kind === kind && x.outcome === 'done');
    if (!done) throw new Error(`bench gas: expected a done ${kind}, got ${JSON.stringify(r.results.map((x) => [x.action.kind, x.outcome, x.reason]))}`);
    return done;
  } finally {
    await k.close();
  }
}

async function keeperTxGas(d: BenchDevnet, result: ActionResult): Promise<GasTx[]> {
  const out: GasTx[] = [];
  for (const tx of result.txs) {
    if (tx.status !== 'mined') continue;
    out.push({ label: tx.label, gasUsed: (await receiptGas(d, tx.hash)).toString() });
  }
  return out;
}

export async function measureGas(d: BenchDevnet): Promise<GasComparison[]> {
  const test = createAnvilTestClient(d.rpcUrl);
  const demo = d.as('perpDemo');
  const a = d.addresses;
  const marketId = BigInt(a.perpMarketId);
  const send = async (hash: Promise<Hex>) => receiptGas(d, await hash);
  const sum = (txs: GasTx[]) => txs.reduce((s, t) => s + BigInt(t.gasUsed), 0n).toString();
  const out: GasComparison[] = [];
  // anvil drops a snapshot once reverted to: take a new one for every restore.
  let clean = await test.snapshot();

  // Hedge adjust: -5% makes the LP long more ETH; the keeper shorts the difference.
  await movePrice(d.rpcUrl, a, 1_900n * E8);
  const beforeHedge = await test.snapshot();
  const hedge = await keeperAction(d, {}, 'adjustHedge');
  const hedgeTxs = await keeperTxGas(d, hedge);
  await test.revert({ id: beforeHedge });
  if (hedge.action.kind !== 'adjustHedge') throw new Error('unreachable');
  const price = await demo.publicClient.readContract({ address: a.ethUsdFeed, abi: priceFeedAbi, functionName: 'latestAnswer' });
  const size = hedge.action.sizeDeltaWei;
  const bareTrade = await send(demo.walletClient.writeContract({ address: a.perp, abi: perpExchangeAbi, functionName: 'trade', args: [marketId, size, acceptablePriceE8(BigInt(price), size, 50)] }));
  const keeperTrade = BigInt(hedgeTxs.find((t) => t.label === 'perp.trade')?.gasUsed ?? '0');
  out.push({
    action: 'adjustHedge',
    keeperTxs: hedgeTxs,
    keeperTotalGas: sum(hedgeTxs),
    bare: [{ label: 'trade', gasUsed: bareTrade.toString() }],
    bareCallGas: bareTrade.toString(),
    callOverheadGas: (keeperTrade - bareTrade).toString(),
    note: 'one trade() call, same size and price bound, same account and state',
  });
  log(`gas: hedge keeper ${sum(hedgeTxs)} vs bare trade ${bareTrade}`);
  await test.revert({ id: clean });
  clean = await test.snapshot();

  // Top-up: the owner takes margin out to a 12% ratio (trigger 15%); a wide band keeps the hedge still.
  const acct = await demo.publicClient.readContract({ address: a.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [demo.walletClient.account.address, marketId] });
  const keep = (acct.notionalUnits * 12n) / 100n;
  await send(demo.walletClient.writeContract({ address: a.perp, abi: perpExchangeAbi, functionName: 'withdraw', args: [marketId, BigInt(acct.accountValueUnits) - keep] }));
  const beforeTopUp = await test.snapshot();
  const topUp = await keeperAction(d, { DELTA_BAND_ETH: '100' }, 'topUp');
  const topUpTxs = await keeperTxGas(d, topUp);
  await test.revert({ id: beforeTopUp });
  if (topUp.action.kind !== 'topUp') throw new Error('unreachable');
  const amount = topUp.action.amountUnits;
  // The same one-time approval the keeper makes (max): an exact approval would zero the allowance
  // in deposit() and earn a storage refund, which is about approvals, not about the keeper.
  const bareApprove = await send(demo.walletClient.writeContract({ address: a.usdc, abi: erc20Abi, functionName: 'approve', args: [a.perp, maxUint256] }));
  const bareDeposit = await send(demo.walletClient.writeContract({ address: a.perp, abi: perpExchangeAbi, functionName: 'deposit', args: [marketId, amount] }));
  const keeperDeposit = BigInt(topUpTxs.find((t) => t.label === 'perp.deposit')?.gasUsed ?? '0');
  out.push({
    action: 'topUp',
    keeperTxs: topUpTxs,
    keeperTotalGas: sum(topUpTxs),
    bare: [{ label: 'approve(max)', gasUsed: bareApprove.toString() }, { label: 'deposit', gasUsed: bareDeposit.toString() }],
    bareCallGas: bareDeposit.toString(),
    callOverheadGas: (keeperDeposit - bareDeposit).toString(),
    note: 'one deposit() call of the same amount after the same max approval; the approval is sent once, on the first top-up only',
  });
  log(`gas: top-up keeper ${sum(topUpTxs)} vs bare deposit ${bareDeposit}`);
  await test.revert({ id: clean });
  return out;
}
