/**
 * Webhook alerts (Slack- and Discord-compatible: the JSON carries both `text` and `content`).
 * Alerts are derived from the keeper's own log events, so one fact lives in one place: the
 * logger hands every line to `onLine`, which picks the events worth waking someone for. Delivery
 * is a small in-memory queue drained in the background: it never blocks or fails a tick.
 */

export interface AlerterOptions {
  url: string;
  /** Actions whose notional exceeds this (USD) are announced. */
  largeActionUsd: number;
  /** Prefix of every message (e.g. account and chain). */
  label?: string;
  timeoutMs?: number;
  maxQueue?: number;
  fetchImpl?: typeof fetch;
  /** Delivery problems (never thrown). */
  onError?: (err: unknown) => void;
}

export interface Alerter {
  /** Feed one JSON log line; cheap for lines that are not alerts. */
  onLine(line: string): void;
  /** Resolve once everything queued was attempted (tests, shutdown). */
  flush(): Promise<void>;
  readonly sent: number;
  readonly dropped: number;
}

const ALERT_EVENTS = /"event":"(safe_mode\.entered|safe_mode\.left|tx\.reverted|tx\.failed|tx\.refused|tx\.replaced|tx\.stuck|guard\.blocked|action\.deferred|chain\.reorg|chain\.stalled|plan|journal\.dropped|topup\.insufficient)"/;

type Line = Record<string, unknown> & { event: string; msg?: string };

/** The message for a log line, or null when it is not worth an alert. */
export function alertText(line: Line, largeActionUsd: number): string | null {
  switch (line.event) {
    case 'plan': {
      const actions = (line['actions'] ?? []) as Array<{ kind: string; notionalUsd?: string; reason?: string }>;
      const large = actions.filter((a) => Number(a.notionalUsd ?? 0) > largeActionUsd);
      if (large.length === 0) return null;
      return `large action: ${large.map((a) => `${a.kind} ~$${Number(a.notionalUsd).toFixed(0)} (${a.reason ?? ''})`).join('; ')}`;
    }
    case 'tx.reverted':
      // A simulation that refuses is the system working; a revert on chain cost gas.
      return line['stage'] === 'chain' ? `transaction reverted on chain: ${String(line.msg ?? '')}` : null;
    case 'safe_mode.entered':
      return `SAFE MODE: ${String(line['reason'] ?? line.msg ?? '')} (hedging paused; no top-up sized on a doubtful price)`;
    case 'safe_mode.left':
      return `safe mode left: ${String(line.msg ?? 'the cause cleared')}`;
    default:
      return String(line.msg ?? line.event);
  }
}

export function createAlerter(opts: AlerterOptions): Alerter {
  const queue: string[] = [];
  const maxQueue = opts.maxQueue ?? 100;
  const doFetch = opts.fetchImpl ?? fetch;
  let draining: Promise<void> | null = null;
  let sent = 0;
  let dropped = 0;

  async function deliver(text: string): Promise<void> {
    const body = JSON.stringify({ text, content: text.slice(0, 1_900) });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const res = await doFetch(opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
        });
        if (res.ok) {
          sent++;
          return;
        }
        opts.onError?.(new Error(`webhook answered ${res.status}`));
      } catch (err) {
        opts.onError?.(err);
      }
    }
    dropped++;
  }

  function drain(): void {
    draining ??= (async () => {
      while (queue.length > 0) await deliver(queue.shift() as string);
      draining = null;
    })();
  }

  return {
    onLine(line) {
      if (!ALERT_EVENTS.test(line)) return;
      let parsed: Line;
      try {
        parsed = JSON.parse(line) as Line;
      } catch {
        return;
      }
      const text = alertText(parsed, opts.largeActionUsd);
      if (text === null) return;
      if (queue.length >= maxQueue) {
        dropped++;
        return;
      }
      queue.push(opts.label ? `[${opts.label}] ${text}` : text);
      drain();
    },
    async flush() {
      while (draining) await draining;
    },
    get sent() {
      return sent;
    },
    get dropped() {
      return dropped;
    },
  };
}
