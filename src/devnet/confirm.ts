import type { Hex, TransactionReceipt } from 'viem';
import type { Clients } from '../chain/clients.js';

/**
 * Gas limit for devnet setup calls into a lending pool (Aave, Morpho): they accrue interest first,
 * and an estimate made on one block runs short in the next (a later timestamp writes more), which
 * starved an inner call in CI. Well above any of them (~300k), below the block limit.
 */
export const LENDING_CALL_GAS = 2_000_000n;

/**
 * Wait for a devnet setup transaction and fail loudly if it reverted, saying why (gas used and
 * the revert of a replay on the parent block). For deployment and test scaffolding, not for the
 * keeper's own transactions (those go through the executor and its sender).
 */
export async function confirm(clients: Clients, sent: Hex | Promise<Hex>, what: string): Promise<TransactionReceipt> {
  const hash = await sent;
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`${what} reverted (tx ${hash}): ${await revertReason(clients, hash, receipt)}`);
  return receipt;
}

/** Replay a reverted transaction on its parent block to recover the reason for the error message. */
async function revertReason(clients: Clients, hash: Hex, receipt: TransactionReceipt): Promise<string> {
  const { publicClient } = clients;
  const tx = await publicClient.getTransaction({ hash });
  const gas = `gas ${receipt.gasUsed}/${tx.gas}`;
  try {
    await publicClient.call({ account: tx.from, to: tx.to, data: tx.input, value: tx.value, gas: tx.gas, blockNumber: receipt.blockNumber - 1n });
    return `${gas}, succeeds when replayed on the parent block (state changed in between)`;
  } catch (err) {
    return `${gas}, ${(err as { shortMessage?: string }).shortMessage ?? String(err)}`;
  }
}
