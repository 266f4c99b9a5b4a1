/**
 * A loopback JSON-RPC proxy in front of an anvil that misbehaves the way load-balanced and
 * rate-limited providers do, switchable at runtime: a head that freezes or lags (served by a
 * stale replica, optionally only for state reads), HTTP 5xx / 429 with Retry-After, JSON-RPC
 * errors, hangs and connection resets per method (by probability from a seeded RNG, or for the
 * next K calls), and an endpoint that accepts raw transactions and never forwards them. Used by
 * the chaos tests and `npm run soak`; never by the keeper itself.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { keccak256, type Hex } from 'viem';
import { mulberry32 } from '../core/risk/random.js';
import { rewriteForHead, trimForHead, type JsonRpcRequest, type JsonRpcResponse } from './rpc-proxy-stale.js';

export { TX_METHODS } from './rpc-proxy-stale.js';

export type Fault =
  /** An HTTP error status (500, 502, 503, 429...); Retry-After sent when given (seconds). */
  | { kind: 'http'; status: number; retryAfterSec?: number }
  /** HTTP 200 with a JSON-RPC error (default -32603 internal error). */
  | { kind: 'rpc-error'; code?: number; message?: string }
  /** Hold the request this long, then serve it (a client with a shorter timeout gives up first). */
  | { kind: 'hang'; ms: number }
  /** Drop the TCP connection without an answer. */
  | { kind: 'reset' };

/**
 * What a struggling load-balanced provider answers instead of the truth. viem retries 5xx, 429,
 * resets and -32603 itself; a backend's -32000 reaches the caller on the first failure.
 */
export const PROVIDER_ERRORS: readonly Fault[] = [
  { kind: 'http', status: 500 },
  { kind: 'http', status: 503 },
  { kind: 'http', status: 429, retryAfterSec: 1 },
  { kind: 'rpc-error', code: -32603, message: 'internal error' },
  { kind: 'rpc-error', code: -32000, message: 'header not found' },
  { kind: 'rpc-error', code: -32000, message: 'missing trie node' },
  { kind: 'rpc-error', code: -32000, message: 'request timed out' },
  { kind: 'reset' },
  { kind: 'hang', ms: 300 },
];

export interface FaultRule {
  /** JSON-RPC methods this rule applies to; omitted = every method. */
  methods?: readonly string[];
  /** One fault, or several to pick from uniformly (a provider failing in assorted ways). */
  fault: Fault | readonly Fault[];
  /** Chance per matching call, 0..1, drawn from the proxy's RNG (default 1). */
  probability?: number;
  /** Only the next K matching calls (default: until removed). */
  count?: number;
  /** Forward upstream first, then answer with the fault: the provider did the work, the answer was lost. */
  afterForward?: boolean;
}

export interface FaultHandle {
  /** Calls this rule has hit so far. */
  readonly hits: number;
  remove(): void;
}

export interface StaleOptions {
  /** Methods still served from the real head (e.g. TX_METHODS: a load balancer's tx backend). */
  fresh?: readonly string[];
}

export interface ProxyStats {
  /** Incoming JSON-RPC calls per method (a batch counts each of its calls). */
  requests: Record<string, number>;
  /** Injected faults per kind (`http-500`, `http-429`, `rpc-error`, `hang`, `reset`, `swallow`). */
  faults: Record<string, number>;
  /** Hashes of every raw transaction received (forwarded or not), in order, repeats included. */
  sent: Hex[];
  /** Hashes of the raw transactions swallowed, in order. */
  swallowed: Hex[];
}

export interface RpcProxy {
  readonly url: string;
  readonly port: number;
  /** Serve every block-dependent read at `block` (default: the upstream head now); returns it. */
  freezeHead(opts?: StaleOptions & { block?: bigint }): Promise<bigint>;
  /** Serve reads `blocks` behind the upstream head; `probability` = share of requests that hit the lagging replica. */
  lag(blocks: number, opts?: StaleOptions & { probability?: number }): void;
  /** Back to the upstream head. */
  live(): void;
  inject(rule: FaultRule): FaultHandle;
  clearFaults(): void;
  /** Answer eth_sendRawTransaction with the right hash and never forward it. */
  swallowSends(on: boolean): void;
  stats(): ProxyStats;
  resetStats(): void;
  /** Close the listener, every open connection and every held request. Idempotent. */
  stop(): Promise<void>;
}

export interface RpcProxyOptions {
  upstream: string;
  /** 0 or omitted = a free port. */
  port?: number;
  /** Seed of the fault RNG: the same seed and the same calls inject the same faults. */
  seed?: number;
}

type Stale = { kind: 'frozen'; block: bigint; fresh: ReadonlySet<string> } | { kind: 'lag'; blocks: bigint; probability: number; fresh: ReadonlySet<string> };
interface ActiveRule extends FaultRule { hits: number; left: number }
/** What one call of a request turned into. */
type Planned = { req: JsonRpcRequest; fault: Fault | null; afterForward: boolean };

const faultLabel = (f: Fault) => (f.kind === 'http' ? `http-${f.status}` : f.kind);
const rpcError = (id: unknown, code: number, message: string): JsonRpcResponse => ({ jsonrpc: '2.0', id, error: { code, message } });

export async function startRpcProxy(opts: RpcProxyOptions): Promise<RpcProxy> {
  const random = opts.seed === undefined ? Math.random : mulberry32(opts.seed);
  const rules: ActiveRule[] = [];
  const sockets = new Set<Socket>();
  const held = new Set<() => void>();
  const abort = new AbortController();
  let stale: Stale | null = null;
  let swallow = false;
  let stats: ProxyStats = { requests: {}, faults: {}, sent: [], swallowed: [] };
  const count = (bucket: Record<string, number>, key: string) => (bucket[key] = (bucket[key] ?? 0) + 1);

  /** One controller per upstream request (one shared signal collects a listener per fetch). */
  const inFlight = new Set<AbortController>();
  abort.signal.addEventListener('abort', () => {
    for (const c of inFlight) c.abort();
  });
  async function upstream(body: unknown): Promise<JsonRpcResponse> {
    const own = new AbortController();
    if (abort.signal.aborted) own.abort();
    inFlight.add(own);
    try {
      const res = await fetch(opts.upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: own.signal });
      return (await res.json()) as JsonRpcResponse;
    } finally {
      inFlight.delete(own);
    }
  }
  async function upstreamHead(): Promise<bigint> {
    const r = await upstream({ jsonrpc: '2.0', id: 0, method: 'eth_blockNumber', params: [] });
    if (typeof r.result !== 'string') throw new Error(`rpc-proxy: upstream ${opts.upstream} gave no block number: ${JSON.stringify(r.error)}`);
    return BigInt(r.result);
  }

  /** The stale head this request is served at, or null for the real one. */
  async function headFor(): Promise<{ head: bigint; fresh: ReadonlySet<string> } | null> {
    if (!stale) return null;
    if (stale.kind === 'frozen') return { head: stale.block, fresh: stale.fresh };
    if (random() >= stale.probability) return null;
    const real = await upstreamHead();
    return { head: real > stale.blocks ? real - stale.blocks : 0n, fresh: stale.fresh };
  }

  function pickFault(method: string): { fault: Fault; afterForward: boolean } | null {
    for (const rule of rules) {
      if (rule.left <= 0 || (rule.methods && !rule.methods.includes(method))) continue;
      if (rule.probability !== undefined && random() >= rule.probability) continue;
      rule.left--;
      rule.hits++;
      const faults: readonly Fault[] = Array.isArray(rule.fault) ? rule.fault : [rule.fault as Fault];
      const fault = faults[Math.min(faults.length - 1, Math.floor(random() * faults.length))] as Fault;
      return { fault, afterForward: rule.afterForward ?? false };
    }
    return null;
  }

  /** Serve one call (stale rewrite, swallow, forward); faults are the caller's business. */
  async function serveCall(req: JsonRpcRequest, at: { head: bigint; fresh: ReadonlySet<string> } | null): Promise<JsonRpcResponse> {
    if (req.method === 'eth_sendRawTransaction' && swallow) {
      const hash = keccak256(req.params?.[0] as Hex);
      stats.swallowed.push(hash);
      count(stats.faults, 'swallow');
      return { jsonrpc: '2.0', id: req.id, result: hash };
    }
    if (!at || at.fresh.has(req.method)) return upstream(req);
    const rewritten = rewriteForHead(req, at.head);
    if ('answer' in rewritten) return rewritten.answer;
    return trimForHead(req.method, await upstream(rewritten.forward), at.head);
  }

  const hold = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        held.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      held.add(done);
    });

  function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(res, 200, rpcError(null, -32700, 'parse error'));
    }
    const batch = Array.isArray(body);
    const calls = (batch ? body : [body]) as JsonRpcRequest[];
    const planned: Planned[] = calls.map((c) => {
      count(stats.requests, c.method);
      if (c.method === 'eth_sendRawTransaction' && typeof c.params?.[0] === 'string') stats.sent.push(keccak256(c.params[0] as Hex));
      const picked = pickFault(c.method);
      return { req: c, fault: picked?.fault ?? null, afterForward: picked?.afterForward ?? false };
    });
    // A transport-level fault takes the whole HTTP request (a batch shares one connection).
    const transport = planned.find((p) => p.fault && p.fault.kind !== 'rpc-error');
    for (const p of planned) if (p.fault) count(stats.faults, faultLabel(p.fault));
    if (transport?.fault?.kind === 'hang') await hold(transport.fault.ms);
    const at = await headFor();
    const answers = await Promise.all(
      planned.map(async (p) => {
        const lost = p.fault && p.fault.kind !== 'hang';
        if (lost && !p.afterForward) return p.fault?.kind === 'rpc-error' ? rpcError(p.req.id, p.fault.code ?? -32603, p.fault.message ?? 'internal error') : null;
        const answer = await serveCall(p.req, at);
        return p.fault?.kind === 'rpc-error' ? rpcError(p.req.id, p.fault.code ?? -32603, p.fault.message ?? 'internal error') : answer;
      }),
    );
    const f = transport?.fault;
    if (f?.kind === 'reset') {
      // RST, not FIN: what a load balancer dropping the connection looks like to the client.
      const s = req.socket as Socket & { resetAndDestroy?: () => void };
      if (s.resetAndDestroy) s.resetAndDestroy();
      else s.destroy();
      return;
    }
    if (f?.kind === 'http') {
      const id = calls[0]?.id ?? null;
      const headers: Record<string, string> = f.retryAfterSec !== undefined ? { 'retry-after': String(f.retryAfterSec) } : {};
      const message = f.status === 429 ? 'Too Many Requests: compute units per second capacity exceeded' : `upstream error ${f.status}`;
      return reply(res, f.status, rpcError(id, f.status === 429 ? 429 : -32603, message), headers);
    }
    reply(res, 200, batch ? answers : answers[0]);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (abort.signal.aborted) return res.destroy();
      reply(res, 502, rpcError(null, -32603, `rpc-proxy: upstream failed: ${err instanceof Error ? err.message : String(err)}`));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async freezeHead(o = {}) {
      const block = o.block ?? (await upstreamHead());
      stale = { kind: 'frozen', block, fresh: new Set(o.fresh ?? []) };
      return block;
    },
    lag(blocks, o = {}) {
      if (!(blocks >= 0)) throw new RangeError(`rpc-proxy: lag blocks must be >= 0, got ${blocks}`);
      stale = { kind: 'lag', blocks: BigInt(blocks), probability: o.probability ?? 1, fresh: new Set(o.fresh ?? []) };
    },
    live() {
      stale = null;
    },
    inject(rule) {
      if (Array.isArray(rule.fault) && rule.fault.length === 0) throw new RangeError('rpc-proxy: inject needs at least one fault');
      if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
        throw new RangeError(`rpc-proxy: probability must be within 0..1, got ${rule.probability}`);
      }
      const active: ActiveRule = { ...rule, hits: 0, left: rule.count ?? Number.POSITIVE_INFINITY };
      rules.push(active);
      return {
        get hits() {
          return active.hits;
        },
        remove() {
          const i = rules.indexOf(active);
          if (i >= 0) rules.splice(i, 1);
        },
      };
    },
    clearFaults() {
      rules.length = 0;
    },
    swallowSends(on) {
      swallow = on;
    },
    stats: () => ({ requests: { ...stats.requests }, faults: { ...stats.faults }, sent: [...stats.sent], swallowed: [...stats.swallowed] }),
    resetStats() {
      stats = { requests: {}, faults: {}, sent: [], swallowed: [] };
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        abort.abort();
        for (const release of [...held]) release();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return stopped;
    },
  };
}
