import { Writable } from 'node:stream';
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';
import { prettyLine } from './pretty.js';
import { createScrubber } from './scrub.js';

export { scrubText } from './scrub.js';

export type { Logger } from 'pino';
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  level?: LevelWithSilent;
  format?: LogFormat;
  /** Where JSON lines go (default stdout). Tests pass a recording stream. */
  destination?: DestinationStream;
  /** Fields bound once to every line, e.g. { chainId, account }. */
  bindings?: Record<string, unknown>;
  /** Values that must never reach a line (private key, keystore password). */
  secrets?: readonly string[];
  /**
   * URLs whose path and query may hold a key (RPC endpoints, the alert webhook): every line
   * shows them, and any URL on their origin or carrying their keys, by origin only.
   */
  rpcUrls?: readonly string[];
  /** Sees every (redacted) JSON line: alerts are derived from log events. Must not throw. */
  onLine?: (line: string) => void;
}

/**
 * JSON.stringify replacer: bigint as decimal strings (DESIGN: bigint-safe logs), Errors with
 * message/cause, and no 32-byte hex strings under keys that name secrets.
 */
function toLoggable(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return {
      type: value.name,
      message: value.message,
      ...(value.cause !== undefined ? { cause: toLoggable(value.cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => toLoggable(v, depth + 1));
  if (typeof (value as { toFixed?: unknown }).toFixed === 'function' && 'd' in (value as object)) {
    return String(value); // decimal.js
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toLoggable(v, depth + 1);
  return out;
}

/** Cut every known secret (e.g. the private key, with or without 0x) out of a line. */
function createRedactor(secrets: readonly string[]): (line: string) => string {
  const needles = secrets
    .filter((s) => s.length >= 8)
    .flatMap((s) => [s, s.replace(/^0x/i, '')])
    .map((s) => s.toLowerCase());
  if (needles.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const needle of needles) {
      let i = out.toLowerCase().indexOf(needle);
      while (i >= 0) {
        out = out.slice(0, i) + '<redacted>' + out.slice(i + needle.length);
        i = out.toLowerCase().indexOf(needle);
      }
    }
    return out;
  };
}

function isTty(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env['CI'];
}

/** A pino logger with the keeper's conventions: JSON lines, pretty on a terminal. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && isTty() && !opts.destination);
  const level = opts.level ?? 'info';
  const options = {
    level,
    base: opts.bindings ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: { err: (e: unknown) => toLoggable(e) },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(this, args.map((a) => (typeof a === 'object' ? toLoggable(a) : a)));
      },
    },
  };
  const redactSecrets = createRedactor(opts.secrets ?? []);
  const scrub = createScrubber(opts.rpcUrls ?? []);
  const sink: DestinationStream = opts.destination ?? pino.destination({ dest: 1, sync: true });
  // A person reads the pretty text: fields beyond the message only when asking for debug.
  const prettyOpts = { detail: level === 'debug' || level === 'trace', color: !opts.destination && isTty() && !process.env['NO_COLOR'] };
  const redacting = new Writable({
    write(chunk: Buffer, _enc, cb) {
      // The one choke point: nothing reaches the sink, the terminal or the alerter unscrubbed.
      const line = scrub(redactSecrets(chunk.toString()));
      sink.write(pretty ? prettyLine(line, prettyOpts) : line);
      if (opts.onLine) {
        try {
          opts.onLine(line);
        } catch {
          /* an observer never breaks logging */
        }
      }
      cb();
    },
  });
  return pino(options, redacting);
}

/** Collects JSON log lines in memory (for tests of the loop). */
export function createRecordingLogger(level: LevelWithSilent = 'debug', onLine?: (line: string) => void): {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
} {
  const chunks: string[] = [];
  const destination = { write: (s: string) => void chunks.push(s) } as DestinationStream;
  const logger = createLogger({ level, format: 'json', destination, onLine });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
