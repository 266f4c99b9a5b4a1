import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { erc20Abi } from 'viem';
import { createClients } from '../../src/chain/clients.js';
import { devnetAccount } from '../../src/devnet/accounts.js';
import { priceFeedAbi, perpExchangeAbi } from '../../contracts-abi/index.js';
import { startFork, useDevnet } from '../helpers/devnet.js';

/** Running, and not a zombie waiting for a reaper. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

async function runChild(how: 'throw' | 'signal'): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/anvil-child.ts', how], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', () => reject(new Error('child exited before printing the anvil pid')));
  });
  expect(alive(pid)).toBe(true);
  if (how === 'signal') child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return pid;
}

describe('devnet from the dump', () => {
  const devnet = useDevnet();

  it('holds the deployed contracts and the demo portfolio', async () => {
    const d = devnet();
    const { publicClient } = d.as('perpDemo');
    const a = d.addresses;
    const price = await publicClient.readContract({ address: a.ethUsdFeed, abi: priceFeedAbi, functionName: 'latestAnswer' });
    expect(price).toBe(2_000n * 10n ** 8n);
    const acct = await publicClient.readContract({
      address: a.perp,
      abi: perpExchangeAbi,
      functionName: 'getAccount',
      args: [a.demo.perp.account, BigInt(a.perpMarketId)],
    });
    expect(acct.sizeWei).toBeLessThan(0n); // the demo is short
    const usdc = await publicClient.readContract({ address: a.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [a.demo.perp.account] });
    expect(usdc).toBeGreaterThan(0n);
  });

  it('reverts each test to the loaded state (snapshot/revert isolation), part 1: write', async () => {
    const d = devnet();
    await d.test.setBalance({ address: devnetAccount('liquidator').address, value: 123n });
    const c = d.as('liquidator');
    expect(await c.publicClient.getBalance({ address: devnetAccount('liquidator').address })).toBe(123n);
  });

  it('part 2: the write of the previous test is gone', async () => {
    const d = devnet();
    const c = d.as('liquidator');
    expect(await c.publicClient.getBalance({ address: devnetAccount('liquidator').address })).not.toBe(123n);
  });

  it('a fork sees the base chain state and its writes do not reach the base chain', async () => {
    const d = devnet();
    const fork = await startFork(d.rpcUrl);
    try {
      const onFork = createClients({ rpcUrls: [fork.rpcUrl], chainId: 31337, privateKey: d.key('deployer') });
      const onBase = d.as('deployer');
      const feed = d.addresses.ethUsdFeed;
      const read = (c: typeof onBase) => c.publicClient.readContract({ address: feed, abi: priceFeedAbi, functionName: 'latestAnswer' });
      expect(await read(onFork)).toBe(await read(onBase));
      const hash = await onFork.walletClient.writeContract({ address: feed, abi: priceFeedAbi, functionName: 'setPrice', args: [2_500n * 10n ** 8n] });
      expect((await onFork.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
      expect(await read(onFork)).toBe(2_500n * 10n ** 8n);
      expect(await read(onBase)).toBe(2_000n * 10n ** 8n);
    } finally {
      await fork.stop();
    }
    expect(await gone(fork.pid)).toBe(true);
  });
});

describe('anvil process lifecycle', () => {
  it('kills anvil when its parent process crashes', async () => {
    const pid = await runChild('throw');
    expect(await gone(pid)).toBe(true);
  });

  it('kills anvil when its parent process is terminated', async () => {
    const pid = await runChild('signal');
    expect(await gone(pid)).toBe(true);
  });
});
