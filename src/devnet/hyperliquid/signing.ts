import { createL1ActionHash } from '@nktkas/hyperliquid/signing';
import { recoverTypedDataAddress, type Address, type Hex } from 'viem';

/**
 * Who signed an exchange request, recovered the way the venue does it: the signature is checked
 * against the action the exchange parsed (its own serialization, so a client that signed other
 * bytes recovers to some unrelated address), never against an address the client names.
 */

const ZERO = '0x0000000000000000000000000000000000000000' as const;

export interface Signature {
  readonly r: string;
  readonly s: string;
  readonly v: number;
}

function packed(sig: Signature): Hex {
  const r = sig.r.slice(2).padStart(64, '0');
  const s = sig.s.slice(2).padStart(64, '0');
  return `0x${r}${s}${sig.v.toString(16).padStart(2, '0')}`;
}

/** L1 actions (order, cancel, ...): the "Agent" message whose connectionId hashes msgpack(action) ‖ nonce ‖ vault ‖ expiry. */
export async function recoverL1Signer(args: {
  action: Record<string, unknown>;
  nonce: number;
  signature: Signature;
  isTestnet: boolean;
  vaultAddress?: Address;
  expiresAfter?: number;
}): Promise<Address> {
  const connectionId = createL1ActionHash({
    action: args.action,
    nonce: args.nonce,
    ...(args.vaultAddress !== undefined ? { vaultAddress: args.vaultAddress } : {}),
    ...(args.expiresAfter !== undefined ? { expiresAfter: args.expiresAfter } : {}),
  });
  return recoverTypedDataAddress({
    domain: { name: 'Exchange', version: '1', chainId: 1337, verifyingContract: ZERO },
    types: { Agent: [{ name: 'source', type: 'string' }, { name: 'connectionId', type: 'bytes32' }] },
    primaryType: 'Agent',
    message: { source: args.isTestnet ? 'b' : 'a', connectionId },
    signature: packed(args.signature),
  });
}

/** User-signed actions (approveAgent, transfers): domain HyperliquidSignTransaction at the action's signatureChainId. */
export async function recoverUserSigner(args: {
  action: Record<string, unknown> & { signatureChainId: string };
  types: Record<string, readonly { name: string; type: string }[]>;
  signature: Signature;
}): Promise<Address> {
  const primaryType = Object.keys(args.types)[0]!;
  const fields = new Set(args.types[primaryType]!.map((f) => f.name));
  const message = Object.fromEntries(Object.entries(args.action).filter(([k]) => fields.has(k)));
  if (args.action['type'] === 'approveAgent' && (message['agentName'] === null || message['agentName'] === undefined)) message['agentName'] = '';
  return recoverTypedDataAddress({
    domain: { name: 'HyperliquidSignTransaction', version: '1', chainId: Number.parseInt(args.action.signatureChainId, 16), verifyingContract: ZERO },
    types: args.types as Record<string, { name: string; type: string }[]>,
    primaryType,
    message,
    signature: packed(args.signature),
  });
}
