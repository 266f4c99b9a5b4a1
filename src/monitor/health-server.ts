import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeeperMetrics } from './metrics.js';

export interface Health {
  status: 'ok' | 'stale' | 'starting';
  /** Seconds since the last successful tick; null before the first one. */
  lastTickAgeSec: number | null;
  maxTickAgeSec: number;
  /** Set when the last tick's read was older than what the keeper knew: unhealthy at once. */
  staleRead?: string;
}

/**
 * Healthy while the last successful tick is younger than the limit. Before the first tick the
 * keeper is not healthy yet ("starting"): a container orchestrator covers the start with its
 * own grace period (compose `start_period`), and a keeper that never ticks must not look fine.
 */
export function healthOf(lastTickAtMs: number | null, nowMs: number, maxTickAgeSec: number, staleRead: string | null = null): Health {
  if (lastTickAtMs === null) return { status: 'starting', lastTickAgeSec: null, maxTickAgeSec, ...(staleRead ? { staleRead } : {}) };
  const lastTickAgeSec = Math.max(0, nowMs - lastTickAtMs) / 1000;
  if (staleRead) return { status: 'stale', lastTickAgeSec, maxTickAgeSec, staleRead };
  return { status: lastTickAgeSec < maxTickAgeSec ? 'ok' : 'stale', lastTickAgeSec, maxTickAgeSec };
}

export interface HealthServerOptions {
  /** 0 = any free port (tests); the chosen one is returned. */
  port: number;
  /** Default loopback; a container that is scraped from outside binds 0.0.0.0. */
  host?: string;
  metrics: Pick<KeeperMetrics, 'lastTickAtMs' | 'registry'> & Partial<Pick<KeeperMetrics, 'staleRead'>>;
  maxTickAgeSec: number;
  /** Wall clock in ms, the same clock the metrics use. Default Date.now. */
  now?: () => number;
}

export interface HealthServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

/** `/metrics` (Prometheus text) and `/healthz` (JSON, 200 or 503) on a plain node:http server. */
export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const now = opts.now ?? Date.now;
  const { metrics } = opts;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics' && path !== '/healthz') return send(res, 404, 'text/plain', 'not found: try /metrics or /healthz\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/metrics') return send(res, 200, metrics.registry.contentType, await metrics.registry.metrics());
    const health = healthOf(metrics.lastTickAtMs(), now(), opts.maxTickAgeSec, metrics.staleRead?.() ?? null);
    send(res, health.status === 'ok' ? 200 : 503, 'application/json', `${JSON.stringify(health)}\n`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, 'text/plain', `${err instanceof Error ? err.message : String(err)}\n`));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's keep-alive connection must not hold the daemon open at shutdown.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
