import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { Address, Hex } from 'viem';
import { startAnvil, type AnvilInstance } from '../../src/devnet/anvil.js';
import { devnetAccount, type DevnetRole } from '../../src/devnet/accounts.js';
import { refreshFeeds, type DevnetAddresses } from '../../src/devnet/deploy.js';
import { ensureDevnetState, startDevnetFromState } from '../../src/devnet/state.js';
import { createAnvilTestClient, createClients, type Clients } from '../../src/chain/clients.js';

export interface Devnet {
  anvil: AnvilInstance;
  rpcUrl: string;
  addresses: DevnetAddresses;
  test: ReturnType<typeof createAnvilTestClient>;
  /** viem clients signing as a devnet role (anvil default account). */
  as(role: DevnetRole): Clients;
  key(role: DevnetRole): Hex;
  address(role: DevnetRole): Address;
}

/**
 * One anvil per test file, loaded from the deployed devnet dump; every test starts from the
 * same state (evm_snapshot after load, evm_revert before each test).
 */
export function useDevnet(opts: { blockTimeSec?: number } = {}): () => Devnet {
  let devnet: Devnet | undefined;
  let snapshot: Hex | undefined;
  beforeAll(async () => {
    const state = await ensureDevnetState();
    const anvil = await startDevnetFromState(state, opts);
    const test = createAnvilTestClient(anvil.rpcUrl);
    const clientCache = new Map<DevnetRole, Clients>();
    devnet = {
      anvil,
      rpcUrl: anvil.rpcUrl,
      addresses: state.addresses,
      test,
      as(role) {
        let c = clientCache.get(role);
        if (!c) {
          c = createClients({ rpcUrls: [anvil.rpcUrl], chainId: 31337, privateKey: devnetAccount(role).privateKey, pollingIntervalMs: 20 });
          clientCache.set(role, c);
        }
        return c;
      },
      key: (role) => devnetAccount(role).privateKey,
      address: (role) => devnetAccount(role).address,
    };
    // The dump may be older than the feeds' staleness limit.
    await refreshFeeds(anvil.rpcUrl, state.addresses);
    snapshot = await test.snapshot();
  });
  beforeEach(async () => {
    if (!devnet || !snapshot) return;
    await devnet.test.revert({ id: snapshot });
    snapshot = await devnet.test.snapshot();
  });
  afterAll(async () => {
    await devnet?.anvil.stop();
  });
  return () => {
    if (!devnet) throw new Error('useDevnet: the devnet is only available inside tests/hooks');
    return devnet;
  };
}

/** A second anvil forking `rpcUrl`: the same code path a user takes against a mainnet fork. */
export async function startFork(rpcUrl: string): Promise<AnvilInstance> {
  return startAnvil({ forkUrl: rpcUrl });
}
