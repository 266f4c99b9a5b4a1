import type { Abi, Chain, ContractFunctionParameters, PublicClient, Transport } from 'viem';
import type { Action, Address, HedgeAccount, HedgeVenueKind, OracleReading } from '../core/types.js';
import type { CallAllowList } from '../core/guard.js';
import type { TxBound } from '../core/guard-tx.js';

/** One contract call the executor simulates, guards, signs and sends. */
export interface TxRequest {
  /** What it does, for logs and the journal ("perp.trade", "aave.borrow", "approve USDC"). */
  label: string;
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  value?: bigint;
  /**
   * What bounds it, declared by the venue: the guard (core/guard-tx.ts) refuses a function it
   * does not know and a declaration that does not fit the function or its calldata.
   */
  bound: TxBound;
}

/** What a venue needs to build the transactions of an action. */
export interface BuildContext {
  account: Address;
  publicClient: PublicClient<Transport, Chain>;
  /** The oracle reading of the tick that planned the action. */
  oracle: OracleReading;
  maxSlippageBps: number;
  /** Pin reads that build the transactions (allowance, quotes) to the planning block. */
  blockNumber: bigint;
}

/**
 * What `buildTxs` returns: the transactions, or a refusal when a check made while building them
 * (a swap quote beyond the slippage bound, a balance short of what a leg needs) shows the
 * sequence would fail part way. Refusing up front sends nothing, where letting the failing leg
 * revert in its own simulation would leave the earlier legs mined (an Aave borrow without the sale).
 */
export type BuiltTxs =
  | { status: 'ready'; txs: TxRequest[] }
  /** `label` names the step that would fail, as a TxOutcome label does. */
  | { status: 'refused'; label: string; reason: string };

/**
 * A hedge venue: how its account is read (as calls added to the tick's one multicall), and
 * how an action becomes transactions. The planner above it is venue-agnostic.
 */
export interface HedgeVenue {
  readonly kind: HedgeVenueKind;
  /** Calls appended to the snapshot multicall, in a fixed order `parse` relies on. */
  readCalls(account: Address): readonly ContractFunctionParameters[];
  /** Turn those calls' results (same order) into the venue's account view. */
  parse(results: readonly unknown[], oracle: OracleReading): HedgeAccount;
  /**
   * The transactions that carry out an action, in order (approvals included only when the
   * allowance is short). Built all at once: every amount is fixed before the first is sent.
   */
  buildTxs(action: Action, ctx: BuildContext): Promise<BuiltTxs>;
  /** The contracts and functions this venue may call (deny by default). */
  allowList(): CallAllowList;
}
