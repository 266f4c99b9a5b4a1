import { createRequire } from 'node:module';
import { erc20Abi, parseAbi, type Address } from 'viem';
import { perpExchangeAbi, priceFeedAbi } from '../../contracts-abi/index.js';
import type { Devnet } from '../helpers/devnet.js';
import { nonceOf } from './helpers.js';

/**
 * A feed that answers whatever round it is told to. The devnet PriceFeed refuses the rounds a
 * broken or compromised aggregator can serve (answer <= 0, updatedAt in the future) and always
 * answers in the round it was asked (answeredInRound == roundId), so the chaos tests swap its
 * code for this one at the same address (anvil_setCode): the perp exchange and the keeper then
 * read the injected round exactly as they would a real feed's.
 */
const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract MockFeed {
    uint80 private roundId_;
    int256 private answer_;
    uint256 private startedAt_;
    uint256 private updatedAt_;
    uint80 private answeredInRound_;
    uint8 private decimals_;
    function set(uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound, uint8 decimals)
        external
    {
        roundId_ = roundId;
        answer_ = answer;
        startedAt_ = startedAt;
        updatedAt_ = updatedAt;
        answeredInRound_ = answeredInRound;
        decimals_ = decimals;
    }
    function decimals() external view returns (uint8) { return decimals_; }
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (roundId_, answer_, startedAt_, updatedAt_, answeredInRound_);
    }
    function latestAnswer() external view returns (int256) { return answer_; }
    function latestTimestamp() external view returns (uint256) { return updatedAt_; }
    function latestRound() external view returns (uint256) { return roundId_; }
}
`;

export const mockFeedAbi = parseAbi([
  'function set(uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound, uint8 decimals)',
]);

let runtimeCode: `0x${string}` | undefined;

/** Runtime bytecode of MockFeed, compiled once per test file with the project's solc-js. */
export function mockFeedCode(): `0x${string}` {
  if (runtimeCode) return runtimeCode;
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string): string };
  const input = {
    language: 'Solidity',
    sources: { 'MockFeed.sol': { content: SOURCE } },
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun', outputSelection: { '*': { '*': ['evm.deployedBytecode.object'] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { evm: { deployedBytecode: { object: string } } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(`MockFeed.sol does not compile:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  const object = out.contracts?.['MockFeed.sol']?.['MockFeed']?.evm.deployedBytecode.object;
  if (!object) throw new Error('solc returned no runtime bytecode for MockFeed');
  runtimeCode = `0x${object}`;
  return runtimeCode;
}

export interface RoundFields {
  roundId: bigint;
  answer: bigint;
  startedAt: bigint;
  updatedAt: bigint;
  answeredInRound: bigint;
  decimals: number;
}

/** The feed's latest round as the real PriceFeed reports it now. */
export async function latestRound(d: Devnet, feed: Address): Promise<RoundFields> {
  const pc = d.as('deployer').publicClient;
  const [roundId, answer, startedAt, updatedAt, answeredInRound] = await pc.readContract({ address: feed, abi: priceFeedAbi, functionName: 'latestRoundData' });
  const decimals = await pc.readContract({ address: feed, abi: priceFeedAbi, functionName: 'decimals' });
  return { roundId, answer, startedAt, updatedAt, answeredInRound, decimals };
}

/** Replace the feed's code with MockFeed and make it answer `round` (every field written). */
export async function injectRound(d: Devnet, feed: Address, round: RoundFields): Promise<void> {
  await d.test.setCode({ address: feed, bytecode: mockFeedCode() });
  const c = d.as('deployer');
  const hash = await c.walletClient.writeContract({
    address: feed,
    abi: mockFeedAbi,
    functionName: 'set',
    args: [round.roundId, round.answer, round.startedAt, round.updatedAt, round.answeredInRound, round.decimals],
  });
  const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`MockFeed.set reverted at ${feed}`);
}

/**
 * What a fault must leave untouched, read with the price-free views (getAccount reverts while
 * the feed answers <= 0): position size, margin, wallet USDC, nonce.
 */
export async function fundsState(d: Devnet): Promise<{ sizeWei: bigint; marginUnits: bigint; walletUsdcUnits: bigint; nonce: number }> {
  const pc = d.as('perpDemo').publicClient;
  const account = d.addresses.demo.perp.account;
  const market = BigInt(d.addresses.perpMarketId);
  const [sizeWei, marginUnits, walletUsdcUnits, nonce] = await Promise.all([
    pc.readContract({ address: d.addresses.perp, abi: perpExchangeAbi, functionName: 'positionSize', args: [account, market] }),
    pc.readContract({ address: d.addresses.perp, abi: perpExchangeAbi, functionName: 'margin', args: [account, market] }),
    pc.readContract({ address: d.addresses.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [account] }),
    nonceOf(d),
  ]);
  return { sizeWei, marginUnits, walletUsdcUnits, nonce };
}
