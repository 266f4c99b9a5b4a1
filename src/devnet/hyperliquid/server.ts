import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as v from 'valibot';
import { ApproveAgentRequest, ApproveAgentTypes, CancelRequest, OrderRequest } from '@nktkas/hyperliquid/api/exchange';
import { answerInfo } from './info.js';
import { LocalHyperliquid, type ExchangeOptions, type OrderStatus } from './exchange.js';
import { recoverL1Signer, recoverUserSigner } from './signing.js';

/**
 * The local Hyperliquid exchange over HTTP on 127.0.0.1: `POST /info` and `POST /exchange` with
 * the venue's request and response shapes, every body validated with the SDK's schemas, every
 * exchange action's signer recovered from its EIP-712 signature. Faults (429, 5xx) can be queued
 * to answer the next requests instead.
 */

export interface LocalHyperliquidServer {
  readonly url: string;
  readonly exchange: LocalHyperliquid;
  /**
   * The next `count` requests (info or exchange, or only `endpoint`'s) are answered with `status`
   * and nothing else happens; with `afterProcessing`, the request is carried out first and its
   * answer lost (a proxy's 502 after the venue executed the order: the fate the keeper must ask).
   */
  injectFault(status: 429 | 500 | 502 | 503, count?: number, opts?: { endpoint?: 'info' | 'exchange'; afterProcessing?: boolean }): void;
  /** The next `count` requests (of `endpoint`) are carried out at once and answered `ms` later (a slow venue or link). */
  injectDelay(ms: number, count?: number, opts?: { endpoint?: 'info' | 'exchange' }): void;
  /** Requests answered, by endpoint (faults included). */
  readonly requests: { info: number; exchange: number };
  close(): Promise<void>;
}

export interface ServerOptions extends ExchangeOptions {
  readonly port?: number;
  /** Which `source` the L1 "Agent" message must carry and which `hyperliquidChain` approvals name. */
  readonly isTestnet?: boolean;
}

type Reply = { status: number; body: unknown };

const err = (response: string): Reply => ({ status: 200, body: { status: 'err', response } });
const ok = (response: unknown): Reply => ({ status: 200, body: { status: 'ok', response } });
const DESERIALIZE = 'Failed to deserialize the JSON body into the target type';

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

async function handleExchange(ex: LocalHyperliquid, body: unknown, isTestnet: boolean): Promise<Reply> {
  const type = (body as { action?: { type?: unknown } } | null)?.action?.type;
  if (type === 'approveAgent') {
    const req = v.safeParse(ApproveAgentRequest, body);
    if (!req.success) return { status: 422, body: DESERIALIZE };
    const { action, signature, nonce } = req.output;
    if (action.hyperliquidChain !== (isTestnet ? 'Testnet' : 'Mainnet')) return err(`Invalid hyperliquidChain ${action.hyperliquidChain}`);
    if (action.nonce !== nonce) return err('Invalid nonce: action nonce differs from the request nonce');
    const signer = await recoverUserSigner({ action, types: ApproveAgentTypes, signature });
    const user = ex.accounts.has(signer.toLowerCase()) ? signer.toLowerCase() : null;
    if (user === null) return err(`User or API Wallet ${signer.toLowerCase()} does not exist.`);
    const nonceOk = ex.nonces.check(user, nonce, ex.now());
    if (!nonceOk.ok) return err(nonceOk.error);
    ex.nonces.use(user, nonce);
    ex.agents.set(action.agentAddress.toLowerCase(), user);
    return ok({ type: 'default' });
  }
  const schema = type === 'order' ? OrderRequest : type === 'cancel' ? CancelRequest : null;
  if (schema === null) return { status: 422, body: DESERIALIZE };
  const req = v.safeParse(schema, body);
  if (!req.success) return { status: 422, body: DESERIALIZE };
  const { action, nonce, signature, vaultAddress, expiresAfter } = req.output;
  if (vaultAddress !== undefined) return err('Vault trading is not supported by the local exchange');
  if (expiresAfter !== undefined && expiresAfter < ex.now()) return err(`Action expired at ${expiresAfter}`);
  const signer = await recoverL1Signer({
    action: action as unknown as Record<string, unknown>,
    nonce,
    signature,
    isTestnet,
    ...(expiresAfter !== undefined ? { expiresAfter } : {}),
  });
  const user = ex.userOf(signer);
  if (user === null) return err(`User or API Wallet ${signer.toLowerCase()} does not exist.`);
  const nonceOk = ex.nonces.check(signer, nonce, ex.now());
  if (!nonceOk.ok) return err(nonceOk.error);
  ex.nonces.use(signer, nonce);
  if (action.type === 'order') {
    const statuses: OrderStatus[] = action.orders.map((o) => ex.placeOrder(user, o));
    return ok({ type: 'order', data: { statuses } });
  }
  const statuses = action.cancels.map((c) => ex.cancel(user, c.a, c.o));
  return ok({ type: 'cancel', data: { statuses } });
}

export async function startLocalHyperliquid(opts: ServerOptions): Promise<LocalHyperliquidServer> {
  const ex = new LocalHyperliquid(opts);
  const isTestnet = opts.isTestnet ?? false;
  const faults: Array<{ status: number; endpoint?: 'info' | 'exchange'; afterProcessing?: boolean }> = [];
  const delays: Array<{ ms: number; endpoint?: 'info' | 'exchange' }> = [];
  const requests = { info: 0, exchange: 0 };
  // One request at a time: the venue sequences actions, and a test must see them in order.
  let queue: Promise<unknown> = Promise.resolve();

  const serve = async (req: IncomingMessage): Promise<Reply> => {
    const path = req.url ?? '';
    if (req.method !== 'POST' || (path !== '/info' && path !== '/exchange')) return { status: 404, body: 'Not Found' };
    const endpoint = path === '/info' ? 'info' : 'exchange';
    requests[endpoint]++;
    const at = faults.findIndex((f) => f.endpoint === undefined || f.endpoint === endpoint);
    const fault = at < 0 ? undefined : faults.splice(at, 1)[0];
    const faultReply = (status: number): Reply => ({ status, body: status === 429 ? 'Too Many Requests' : 'Internal Server Error' });
    if (fault !== undefined && !fault.afterProcessing) return faultReply(fault.status);
    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      return { status: 400, body: 'Invalid JSON' };
    }
    await ex.refresh();
    const reply = await answer(endpoint, body);
    const d = delays.findIndex((x) => x.endpoint === undefined || x.endpoint === endpoint);
    if (d >= 0) await new Promise((r) => setTimeout(r, delays.splice(d, 1)[0]!.ms));
    return fault !== undefined ? faultReply(fault.status) : reply;
  };

  const answer = async (endpoint: 'info' | 'exchange', body: unknown): Promise<Reply> => {
    if (endpoint === 'exchange') return handleExchange(ex, body, isTestnet);
    try {
      const answer = answerInfo(ex, body);
      return answer === undefined ? { status: 422, body: DESERIALIZE } : { status: 200, body: answer };
    } catch {
      return { status: 422, body: DESERIALIZE };
    }
  };

  const respond = (res: ServerResponse, reply: Reply): void => {
    const json = typeof reply.body !== 'string';
    res.writeHead(reply.status, { 'Content-Type': json ? 'application/json' : 'text/plain' });
    res.end(json ? JSON.stringify(reply.body) : reply.body);
  };

  const server: Server = createServer((req, res) => {
    const run = queue.then(() => serve(req));
    queue = run.catch(() => undefined);
    run.then(
      (reply) => respond(res, reply),
      (e: unknown) => respond(res, { status: 500, body: `Internal Server Error: ${e instanceof Error ? e.message : String(e)}` }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchange: ex,
    requests,
    injectFault(status, count = 1, o = {}) {
      for (let i = 0; i < count; i++) faults.push({ status, ...o });
    },
    injectDelay(ms, count = 1, o = {}) {
      for (let i = 0; i < count; i++) delays.push({ ms, ...o });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

