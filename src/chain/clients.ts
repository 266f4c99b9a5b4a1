import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  fallback,
  http,
  type Account,
  type Chain,
  type PublicClient,
  type TestClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';

export interface Clients {
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, Account>;
}

/** A chain description for any RPC: viem needs one, only the id matters to us. */
export function chainFor(chainId: number, rpcUrls: readonly string[]): Chain {
  return defineChain({
    id: chainId,
    name: chainId === 31337 ? 'anvil' : `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [...rpcUrls] } },
    contracts: {
      // Multicall3 is at the same address on every chain that has it; the devnet deploys none,
      // so batched reads there go through viem's deployless multicall.
    },
  });
}

export interface TransportOptions {
  /** Retries per request on one URL before the next URL is tried. */
  retryCount?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  /** Observe every JSON-RPC request (metrics, request counting in the bench). */
  onRequest?: (info: { url: string; method: string }) => void;
  onError?: (info: { url: string; error: unknown }) => void;
}

/** An HTTP transport over one or several RPC URLs (viem's fallback transport when several). */
export function createRpcTransport(rpcUrls: readonly string[], opts: TransportOptions = {}): Transport {
  if (rpcUrls.length === 0) throw new Error('createRpcTransport: no RPC URL given');
  // With several URLs the fallback moves on to the next at once; retrying a dead URL first
  // would cost every request its backoff.
  const perUrlRetries = rpcUrls.length > 1 ? 0 : (opts.retryCount ?? 2);
  const one = (url: string): Transport =>
    http(url, {
      batch: false,
      retryCount: perUrlRetries,
      retryDelay: opts.retryDelayMs ?? 150,
      timeout: opts.timeoutMs ?? 10_000,
      onFetchRequest: opts.onRequest
        ? async (request) => {
            try {
              const body = (await request.clone().json()) as { method?: string } | Array<{ method?: string }>;
              const methods = Array.isArray(body) ? body.map((b) => b.method ?? '?') : [body.method ?? '?'];
              for (const method of methods) opts.onRequest?.({ url, method });
            } catch {
              opts.onRequest?.({ url, method: '?' });
            }
          }
        : undefined,
    });
  // Report transport failures (refused, timeout, HTTP errors), not JSON-RPC errors like reverts.
  const observed = (url: string): Transport => {
    const inner = one(url);
    if (!opts.onError) return inner;
    return ((params: Parameters<Transport>[0]) => {
      const t = inner(params);
      return {
        ...t,
        request: (async (args: unknown, o: unknown) => {
          try {
            return await (t.request as (a: unknown, b: unknown) => Promise<unknown>)(args, o);
          } catch (error) {
            const name = (error as { name?: string }).name ?? '';
            if (/HttpRequestError|TimeoutError|WebSocketRequestError|SocketClosedError/.test(name)) opts.onError?.({ url, error });
            throw error;
          }
        }) as typeof t.request,
      };
    }) as Transport;
  };
  const first = rpcUrls[0] as string;
  if (rpcUrls.length === 1) return observed(first);
  return fallback(rpcUrls.map(observed), { rank: false, retryCount: opts.retryCount ?? 2, retryDelay: opts.retryDelayMs ?? 150 });
}

export function createClients(params: {
  rpcUrls: readonly string[];
  chainId: number;
  privateKey: Hex;
  transport?: TransportOptions;
  pollingIntervalMs?: number;
}): Clients {
  const chain = chainFor(params.chainId, params.rpcUrls);
  const transport = createRpcTransport(params.rpcUrls, params.transport);
  const account = privateKeyToAccount(params.privateKey);
  const pollingInterval = params.pollingIntervalMs ?? 250;
  return {
    publicClient: createPublicClient({ chain, transport, pollingInterval }) as PublicClient<Transport, Chain>,
    walletClient: createWalletClient({ chain, transport, account, pollingInterval }),
  };
}

export function createAnvilTestClient(rpcUrl: string, chainId = 31337): TestClient<'anvil', Transport, Chain> {
  return createTestClient({ mode: 'anvil', chain: chainFor(chainId, [rpcUrl]), transport: http(rpcUrl) });
}

/** Ask an RPC for its chain id without knowing the chain. */
export async function fetchChainId(rpcUrl: string, timeoutMs = 5_000): Promise<number> {
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }) });
  return client.getChainId();
}
