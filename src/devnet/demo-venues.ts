import { ExchangeClient, HttpTransport } from '@nktkas/hyperliquid';
import { erc20Abi, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { morphoAbi, priceFeedAbi } from '../../contracts-abi/index.js';
import type { Clients } from '../chain/clients.js';
import { LENDING_CALL_GAS, confirm } from './confirm.js';
import type { DevnetAddresses } from './deploy.js';
import { morphoParamsArg } from './deploy-morpho.js';
import { startDevnetHyperliquid, type DevnetHyperliquid } from './hyperliquid/devnet.js';

/**
 * The multi-asset demo's two real-venue hedges: part of ETH's short on Morpho Blue (a borrow on the
 * devnet's WETH/USDC market) and part of ETH's and BTC's on Hyperliquid (the local exchange, priced
 * from the devnet's feeds, funded through its USDC bridge, orders signed by an approved agent).
 * Both open thin so the demo's first moves need top-ups there too: Morpho at health 1.35 on one
 * borrowed WETH (kept in the wallet, so the delta is unchanged), Hyperliquid with 3,000 USDC and no
 * position (its first short needs a bridge deposit for room).
 */

/** Hyperliquid's Bridge2 address on Arbitrum, reused on the devnet: a USDC transfer to it is a deposit. */
export const DEMO_HL_BRIDGE: Address = '0x2Df1c51E09aECF9cacB7bc98cB1742757f163dF7';
const WAD = 10n ** 18n;
const U = 10n ** 6n;
const MORPHO_START_HF_E2 = 135n;
const HL_START_USDC = 3_000n * U;

export interface DemoVenues {
  readonly hl: DevnetHyperliquid;
  /** The API wallet the demo account approved: it signs the demo's orders. */
  readonly agentKey: Hex;
  /** The demo keeper.yaml with the Hyperliquid and Morpho venues and their instruments added. */
  withVenues(yaml: string): string;
  close(): Promise<void>;
}

export async function startDemoVenues(demo: Clients, demoKey: Hex, d: DevnetAddresses): Promise<DemoVenues> {
  const me = demo.walletClient.account.address;
  const w = demo.walletClient;
  // Morpho: one WETH borrowed against USDC at health 1.35 (collateral x LLTV / debt), the WETH kept.
  const m = { address: d.morpho.address, abi: morphoAbi } as const;
  const params = morphoParamsArg(d.morpho.marketParams);
  const [, ethUsdE8] = await demo.publicClient.readContract({ address: d.ethUsdFeed, abi: priceFeedAbi, functionName: 'latestRoundData' });
  const collateral = (MORPHO_START_HF_E2 * ethUsdE8 * WAD * U) / (100n * 10n ** 8n * params.lltv);
  await confirm(demo, w.writeContract({ address: d.usdc, abi: erc20Abi, functionName: 'approve', args: [m.address, collateral] }), 'demo morpho approve');
  await confirm(demo, w.writeContract({ ...m, functionName: 'supplyCollateral', args: [params, collateral, me, '0x'], gas: LENDING_CALL_GAS }), 'demo morpho supplyCollateral');
  await confirm(demo, w.writeContract({ ...m, functionName: 'borrow', args: [params, WAD, 0n, me, me], gas: LENDING_CALL_GAS }), 'demo morpho borrow');

  // Hyperliquid: the local exchange on the devnet's feeds; the account funded through the bridge.
  const hl = await startDevnetHyperliquid({
    publicClient: demo.publicClient,
    feeds: { ETH: d.ethUsdFeed, BTC: d.btcUsdFeed },
    coins: [{ name: 'ETH', szDecimals: 4, maxLeverage: 25 }, { name: 'BTC', szDecimals: 5, maxLeverage: 40 }],
    usdc: d.usdc,
    bridge: DEMO_HL_BRIDGE,
  });
  try {
    await confirm(demo, w.writeContract({ address: d.usdc, abi: erc20Abi, functionName: 'transfer', args: [DEMO_HL_BRIDGE, HL_START_USDC] }), 'demo hyperliquid deposit');
    await hl.bridge.sync();
    const agentKey = generatePrivateKey();
    const user = new ExchangeClient({ transport: new HttpTransport({ apiUrl: hl.server.url }), wallet: privateKeyToAccount(demoKey) });
    await user.approveAgent({ agentAddress: privateKeyToAccount(agentKey).address, agentName: 'keeper demo' });
    return {
      hl,
      agentKey,
      withVenues: (yaml) =>
        yaml
          .replace(
            'instruments:\n',
            `  hl: { kind: hyperliquid, apiUrl: ${hl.server.url}, user: ${me}, markets: { ETH: ETH, BTC: BTC }, bridge: ${DEMO_HL_BRIDGE}, trigger: 0.15, target: 0.25, maxTopUp: 50000, maxTopUpPerDay: 200000 }\n` +
              `  morpho: { kind: morpho, morpho: ${d.morpho.address}, marketId: '${d.morpho.marketId}', loanAsset: ETH, swapPool: weth-usdc, swapRouter: ${d.uniswap.swapRouter}, quoter: ${d.uniswap.quoterV2}, trigger: 1.3, target: 1.6, maxTopUp: 50000, maxTopUpPerDay: 200000 }\n` +
              'instruments:\n',
          )
          // ETH: what the perp cannot take is shared by Aave, Hyperliquid and Morpho.
          .replace(
            '  - { venue: aave, asset: ETH, priority: 2, weight: 1 }\n',
            '  - { venue: aave, asset: ETH, priority: 2, weight: 1 }\n  - { venue: hl, asset: ETH, priority: 2, weight: 1 }\n  - { venue: morpho, asset: ETH, priority: 2, weight: 1 }\n',
          )
          .replace('  - { venue: aave, asset: BTC, priority: 1, weight: 1 }\n', '  - { venue: aave, asset: BTC, priority: 1, weight: 1 }\n  - { venue: hl, asset: BTC, priority: 1, weight: 1 }\n'),
      close: () => hl.close(),
    };
  } catch (e) {
    await hl.close();
    throw e;
  }
}
