import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, resolveAddresses } from '../../src/config.js';
import { readAddressesFile } from '../../src/runner/addresses.js';
import { preflight } from '../../src/runner/preflight.js';
import { serializeAddresses } from '../../src/devnet/state.js';
import type { DevnetAddresses } from '../../src/devnet/deploy.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';

function fileWith(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'keeper-preflight-')), 'addresses.json');
  writeFileSync(path, content);
  return path;
}

/** Run preflight as runCommand does, on the devnet, with env overrides and an optional edited addresses file. */
async function run(d: Devnet, env: Record<string, string> = {}, edit?: (a: DevnetAddresses) => DevnetAddresses): Promise<string[]> {
  const venue = env['HEDGE_VENUE'] ?? 'perp';
  const role = venue === 'aave' ? 'aaveDemo' : 'perpDemo';
  const file = fileWith(serializeAddresses(edit ? edit(structuredClone(d.addresses)) : d.addresses));
  const config = loadConfig({ RPC_URLS: d.rpcUrl, PRIVATE_KEY: d.key(role), ADDRESSES_FILE: file, ...env });
  const addresses = resolveAddresses(config, readAddressesFile(config.addressesFile as string));
  try {
    await preflight({ config, rpcUrls: config.chain.rpcUrls, chainId: 31337, account: d.address(role), addresses });
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
}

describe('preflight: every configured address answers what the keeper will ask it', () => {
  const devnet = useDevnet();

  it('the devnet passes for both venues', async () => {
    const d = devnet();
    expect(await run(d)).toEqual([]);
    expect(await run(d, { HEDGE_VENUE: 'aave' })).toEqual([]);
  });

  it('an address with no code is named by its variable, with the address', async () => {
    const d = devnet();
    const eoa = d.address('deployer');
    expect(await run(d, { ORACLE_FEED: eoa })).toEqual([`ORACLE_FEED=${eoa}: no contract at this address on chain 31337`]);
  });

  it('an address from the file is named by the file and its key', async () => {
    const d = devnet();
    const eoa = d.address('deployer');
    const lines = await run(d, {}, (a) => ({ ...a, uniswap: { ...a.uniswap, pool: eoa } }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^ADDRESSES_FILE=.*addresses\\.json: key uniswap\\.pool \\(${eoa}\\): no contract at this address on chain 31337$`));
  });

  it('a contract of the wrong kind: the view it does not answer is named, in one short line', async () => {
    const d = devnet();
    const lines = await run(d, { ORACLE_FEED: d.addresses.weth, PERP_EXCHANGE: d.addresses.uniswap.pool });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^ORACLE_FEED=${d.addresses.weth}: latestRoundData\\(\\) (reverted|returned no data): not the contract the keeper expects here$`));
    expect(lines[1]).toMatch(new RegExp(`^PERP_EXCHANGE=${d.addresses.uniswap.pool}: usdc\\(\\) (reverted|returned no data)`));
    for (const l of lines) expect(l.length).toBeLessThan(200);
  });

  it('tokens swapped: decimals and the pool pair say so', async () => {
    const d = devnet();
    const lines = await run(d, { WETH: d.addresses.usdc, USDC: d.addresses.weth });
    expect(lines).toEqual(expect.arrayContaining([
      `WETH=${d.addresses.usdc}: decimals() is 6; the keeper counts WETH in 18 decimals`,
      `USDC=${d.addresses.weth}: decimals() is 18; the keeper counts USDC in 6 decimals`,
    ]));
  });

  it('a periphery contract of another factory, and a router that is not one', async () => {
    const d = devnet();
    const lines = await run(d, { HEDGE_VENUE: 'aave', UNISWAP_SWAP_ROUTER: d.addresses.uniswap.pool, UNISWAP_QUOTER: d.addresses.perp });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^UNISWAP_SWAP_ROUTER=${d.addresses.uniswap.pool}: WETH9\\(\\) (reverted|returned no data)`));
    expect(lines[1]).toMatch(new RegExp(`^UNISWAP_QUOTER=${d.addresses.perp}: WETH9\\(\\) (reverted|returned no data)`));
  });

  it('an Aave provider that is not one', async () => {
    const d = devnet();
    const lines = await run(d, { HEDGE_VENUE: 'aave', AAVE_POOL_ADDRESSES_PROVIDER: d.addresses.perp });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^AAVE_POOL_ADDRESSES_PROVIDER=${d.addresses.perp}: getPool\\(\\) (reverted|returned no data)`));
  });

  it('a MULTICALL3 set to something else than a Multicall3', async () => {
    const d = devnet();
    const lines = await run(d, { MULTICALL3: d.addresses.perp });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^MULTICALL3=${d.addresses.perp}: getCurrentBlockTimestamp\\(\\) (reverted|returned no data)`));
  });

  it('a perp market the exchange does not have is named by PERP_MARKET_ID', async () => {
    const d = devnet();
    expect(await run(d, { PERP_MARKET_ID: '7' })).toEqual([`PERP_MARKET_ID=7: the perp exchange ${d.addresses.perp} has no such market (its markets are 1 to 2)`]);
  });

  it('an RPC on another chain than the addresses file: one line, before any address check', async () => {
    const d = devnet();
    const lines = await run(d, {}, (a) => ({ ...a, chainId: 42161 }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ADDRESSES_FILE=.*: written for chain 42161, but the RPC \(http:\/\/127\.0\.0\.1:\d+\) serves chain 31337$/);
  });

  it('a flat addresses file may record its chain too', async () => {
    const d = devnet();
    const flat = { ...readAddressesFile(fileWith(serializeAddresses(d.addresses))), chainId: 10 };
    const path = fileWith(JSON.stringify(flat));
    const lines = await run(d, { ADDRESSES_FILE: path });
    expect(lines).toEqual([`ADDRESSES_FILE=${path}: written for chain 10, but the RPC (${new URL(d.rpcUrl).origin}) serves chain 31337`]);
  });

  it('an RPC failure is not a configuration problem: a plain error, URL by origin only', async () => {
    const d = devnet();
    const config = loadConfig({ RPC_URLS: 'http://127.0.0.1:9/v2/SECRETKEY', PRIVATE_KEY: d.key('perpDemo'), ADDRESSES_FILE: fileWith(serializeAddresses(d.addresses)) });
    const addresses = resolveAddresses(config, readAddressesFile(config.addressesFile as string));
    const err = await preflight({ config, rpcUrls: config.chain.rpcUrls, chainId: 31337, account: d.address('perpDemo'), addresses }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^preflight: the RPC \(http:\/\/127\.0\.0\.1:9\) failed while checking /);
    expect((err as Error).message).not.toContain('SECRETKEY');
  });
});
