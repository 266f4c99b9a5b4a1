import { mnemonicToAccount } from 'viem/accounts';
import { bytesToHex } from 'viem';
import type { Address, Hex } from 'viem';

/** anvil's well-known test mnemonic: these keys hold only devnet funds. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export interface DevnetAccount {
  address: Address;
  privateKey: Hex;
}

function anvilAccount(index: number): DevnetAccount {
  const account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
  const key = account.getHdKey().privateKey;
  if (!key) throw new Error(`cannot derive anvil account #${index}`);
  return { address: account.address, privateKey: bytesToHex(key) };
}

/** Roles on the devnet, each an anvil default account. */
export const DEVNET_ROLES = {
  /** Owns the tokens, feeds, perp exchange and Aave admin roles; the market driver signs as it. */
  deployer: 0,
  /** The demo portfolio hedged on the perp exchange (the keeper's account by default). */
  perpDemo: 1,
  /** Deep liquidity on Uniswap, Aave WETH supply, and the market driver's arbitrage. */
  marketMaker: 2,
  /** A third party that liquidates under-margined accounts in tests. */
  liquidator: 3,
  /** The demo portfolio hedged on Aave V3 (WETH borrow against USDC). */
  aaveDemo: 4,
  /**
   * The multi-asset demo portfolio (WETH, WBTC, USDC; LPs in WETH/USDC and WBTC/WETH) hedged on
   * both venues at once: ETH on the perp exchange and Aave, BTC on Aave.
   */
  portfolioDemo: 5,
  /**
   * Holds a Uniswap v4 LP position (WETH/USDC, src/devnet/deploy-v4.ts), unhedged: an account of
   * its own, so the other demos' exact deltas do not move. The last default account, out of the
   * way of roles added in order.
   */
  v4Demo: 9,
} as const;

export type DevnetRole = keyof typeof DEVNET_ROLES;

export function devnetAccount(role: DevnetRole): DevnetAccount {
  return anvilAccount(DEVNET_ROLES[role]);
}
