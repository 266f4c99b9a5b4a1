/**
 * The stale-node half of the fault proxy: how a replica that is N blocks behind (or stuck) answers
 * the JSON-RPC calls a keeper makes. Requests are rewritten to the stale head before they are
 * forwarded, and answers that mention later blocks are trimmed, so every reply is one a real
 * lagging node could have given (geth's own wording for blocks it does not have yet).
 */

export interface JsonRpcRequest {
  jsonrpc?: string;
  id?: unknown;
  method: string;
  params?: unknown[];
}

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/**
 * Methods that a load balancer typically serves from its transaction backend (current) while state
 * reads come from a lagging replica: the mix that lets a keeper see its own hedge mined and still
 * read the world from before it. Pass as `fresh` to freezeHead/lag.
 */
export const TX_METHODS: readonly string[] = [
  'eth_sendRawTransaction',
  'eth_getTransactionCount',
  'eth_getTransactionReceipt',
  'eth_getTransactionByHash',
];

/** Index of the block parameter of each method that takes one (EIP-1474 order). */
const BLOCK_PARAM: Readonly<Record<string, number>> = {
  eth_getBalance: 1,
  eth_getCode: 1,
  eth_getTransactionCount: 1,
  eth_getStorageAt: 2,
  eth_call: 1,
  eth_estimateGas: 1,
  eth_createAccessList: 1,
  eth_getProof: 2,
  eth_simulateV1: 1,
  eth_getBlockByNumber: 0,
  eth_getBlockTransactionCountByNumber: 0,
  eth_getBlockReceipts: 0,
  eth_getTransactionByBlockNumberAndIndex: 0,
  eth_feeHistory: 1,
};

const MOVING_TAGS = new Set(['latest', 'pending', 'safe', 'finalized']);
const hex = (n: bigint) => `0x${n.toString(16)}`;

/** What the stale node answers itself: the request never reaches upstream. */
export type StaleRewrite = { forward: JsonRpcRequest } | { answer: JsonRpcResponse };

function headerNotFound(id: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code: -32000, message: 'header not found' } };
}

/** Resolve one block parameter against the stale head; null = a block this node does not have. */
function staleBlock(param: unknown, head: bigint): { value: unknown } | null {
  if (param === undefined || param === null) return { value: hex(head) };
  if (typeof param === 'string') {
    if (MOVING_TAGS.has(param)) return { value: hex(head) };
    if (param === 'earliest') return { value: param };
    if (/^0x[0-9a-f]+$/i.test(param)) return BigInt(param) > head ? null : { value: param };
    return { value: param };
  }
  if (typeof param === 'object' && 'blockNumber' in (param as object)) {
    const inner = staleBlock((param as { blockNumber: unknown }).blockNumber, head);
    return inner ? { value: { ...(param as object), blockNumber: inner.value } } : null;
  }
  return { value: param }; // { blockHash }: the node answers for blocks it knows
}

/** Rewrite a request as a node whose head is `head` would serve it. */
export function rewriteForHead(req: JsonRpcRequest, head: bigint): StaleRewrite {
  if (req.method === 'eth_blockNumber') return { answer: { jsonrpc: '2.0', id: req.id, result: hex(head) } };
  const params = [...(req.params ?? [])];
  const index = BLOCK_PARAM[req.method];
  if (index !== undefined) {
    const resolved = staleBlock(params[index], head);
    if (!resolved) {
      // geth: unknown numbered blocks are null for block getters and "header not found" elsewhere.
      if (req.method === 'eth_getBlockByNumber') return { answer: { jsonrpc: '2.0', id: req.id, result: null } };
      return { answer: headerNotFound(req.id) };
    }
    // Optional block parameters (eth_call, eth_estimateGas) may be absent: pad to reach the index.
    while (params.length < index) params.push(undefined);
    params[index] = resolved.value;
    return { forward: { ...req, params } };
  }
  if (req.method === 'eth_getLogs' && params[0] && typeof params[0] === 'object') {
    const filter = { ...(params[0] as Record<string, unknown>) };
    if (!('blockHash' in filter)) {
      const to = staleBlock(filter['toBlock'], head);
      filter['toBlock'] = to ? to.value : hex(head);
      const from = staleBlock(filter['fromBlock'], head);
      if (!from) return { answer: { jsonrpc: '2.0', id: req.id, result: [] } };
      filter['fromBlock'] = from.value;
    }
    return { forward: { ...req, params: [filter, ...params.slice(1)] } };
  }
  return { forward: req };
}

const blockOf = (v: unknown): bigint | null => {
  const n = (v as { blockNumber?: unknown } | null)?.blockNumber ?? (v as { number?: unknown } | null)?.number;
  return typeof n === 'string' && n.startsWith('0x') ? BigInt(n) : null;
};

/** Trim an upstream answer to what a node at `head` knows: later blocks do not exist yet. */
export function trimForHead(method: string, res: JsonRpcResponse, head: bigint): JsonRpcResponse {
  if (res.error || res.result === null || res.result === undefined) return res;
  const b = blockOf(res.result);
  switch (method) {
    case 'eth_getTransactionReceipt':
    case 'eth_getBlockByHash':
      return b !== null && b > head ? { ...res, result: null } : res;
    case 'eth_getTransactionByHash':
      // The replica saw the broadcast but not the block that mined it: a pending transaction.
      return b !== null && b > head
        ? { ...res, result: { ...(res.result as object), blockHash: null, blockNumber: null, transactionIndex: null } }
        : res;
    case 'eth_getLogs':
      return Array.isArray(res.result) ? { ...res, result: res.result.filter((l) => (blockOf(l) ?? 0n) <= head) } : res;
    default:
      return res;
  }
}
