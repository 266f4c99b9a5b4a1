import { e18ToDecimal, e8ToDecimal, unitsToDecimal, weiToDecimal } from '../core/format.js';

/**
 * Log lines for a person at a terminal (LOG_FORMAT=pretty, or auto on a TTY). The JSON line is
 * the record and stays complete; this only chooses what a reader sees: the message, and the
 * other fields only when LOG_LEVEL is debug or trace. A few events get a shorter text of
 * their own (the tick line, the start-up configuration).
 */

export interface PrettyOptions {
  /** Print every field after the message (LOG_LEVEL debug/trace). */
  detail: boolean;
  color: boolean;
}

type Line = Record<string, unknown>;

const LEVEL_COLOR: Record<string, string> = { trace: '90', debug: '34', info: '32', warn: '33', error: '31', fatal: '35' };
/** Fields every line has, or that the rendered text already shows. */
const HIDDEN = new Set(['level', 'time', 'msg', 'event', 'pid', 'hostname']);

const str = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
const signed = (s: string): string => (s.startsWith('-') ? s : `+${s}`);

function clock(time: unknown): string {
  const d = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date();
  if (Number.isNaN(d.getTime())) return String(time);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** `tick 123  $2000.00  delta +1.2345 ETH (band 0.5000)  ratio 0.2500  hold`. */
function tickText(l: Line): string {
  const parts = [`tick ${str(l['block']) ?? '?'}`];
  const price = str(l['price']);
  if (price) parts.push(price);
  const deltas = l['deltas'];
  if (deltas && typeof deltas === 'object') {
    // Several assets: one signed delta each.
    parts.push(`delta ${Object.entries(deltas).map(([asset, d]) => `${asset} ${signed(String(d))}`).join(', ')}`);
  } else if (str(l['deltaEth'])) {
    const band = str(l['bandEth']);
    parts.push(`delta ${signed(str(l['deltaEth']) as string)}${band ? ` (band ${band.replace(/ ETH$/, '')})` : ''}`);
  }
  const ratio = str(l['marginRatio']);
  if (ratio) parts.push(`ratio ${ratio}`);
  parts.push(str(l['decision']) ?? 'hold');
  const safe = str(l['safeMode']);
  if (safe) parts.push(`SAFE MODE: ${safe}`);
  return parts.join('  ');
}

function get(obj: unknown, path: string): string | undefined {
  let v: unknown = obj;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Line)[k] : undefined;
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** A few lines of the configuration (`config` of keeper.started) in human units; unknown fields are skipped. */
export function configLines(config: unknown, opts: { embedded?: boolean } = {}): string[] {
  const big = (path: string, conv: (x: bigint) => { toString(): string }): string | undefined => {
    const v = get(config, path);
    if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
    return conv(BigInt(v)).toString();
  };
  const join = (items: Array<string | false | undefined>) => items.filter(Boolean).join(' · ');
  const rpcs = (config as { chain?: { rpcUrls?: unknown } } | undefined)?.chain?.rpcUrls;
  const chain = join([
    Array.isArray(rpcs) && rpcs.length > 0 ? `rpc ${rpcs.join(', ')}` : 'embedded devnet',
    get(config, 'chain.chainId') && `chain ${get(config, 'chain.chainId')}`,
    get(config, 'venue') && `venue ${get(config, 'venue')}`,
    get(config, 'signer.kind') && `signer ${get(config, 'signer.kind')}`,
  ]);
  const bandPct = big('policy.deltaBandPctE18', (x) => e18ToDecimal(x * 100n));
  const hedge = join([
    big('policy.hedgeRatioE18', e18ToDecimal) && `hedge ratio ${big('policy.hedgeRatioE18', e18ToDecimal)}`,
    big('policy.deltaBandWei', weiToDecimal) && `band ${big('policy.deltaBandWei', weiToDecimal)} ETH${bandPct && bandPct !== '0' ? ` or ${bandPct}%` : ''}`,
    get(config, 'policy.bandMode') && get(config, 'policy.bandMode') !== 'fixed' && `band mode ${get(config, 'policy.bandMode')}`,
    get(config, 'policy.cooldownSec') && `cooldown ${get(config, 'policy.cooldownSec')} s`,
    get(config, 'policy.maxSlippageBps') && `slippage ${get(config, 'policy.maxSlippageBps')} bps`,
  ]);
  const caps = join([
    get(config, 'venue') === 'aave'
      ? big('policy.hfTriggerE18', e18ToDecimal) && `top-up below health ${big('policy.hfTriggerE18', e18ToDecimal)} to ${big('policy.hfTargetE18', e18ToDecimal)}`
      : big('policy.marginTriggerE18', e18ToDecimal) && `top-up below ratio ${big('policy.marginTriggerE18', e18ToDecimal)} to ${big('policy.marginTargetE18', e18ToDecimal)}`,
    big('guard.maxTradeWei', weiToDecimal) && `trade <= ${big('guard.maxTradeWei', weiToDecimal)} ETH`,
    big('guard.maxNotionalPerDayUsdE8', e8ToDecimal) && `$${big('guard.maxNotionalPerDayUsdE8', e8ToDecimal)}/day`,
    big('guard.maxTopUpUnits', unitsToDecimal) && `top-up <= ${big('guard.maxTopUpUnits', unitsToDecimal)} USDC`,
  ]);
  const tickMode = get(config, 'loop.tickMode');
  const loop = join([
    tickMode && (tickMode === 'interval' ? `tick every ${get(config, 'loop.tickIntervalMs')} ms` : 'tick every block'),
    // The embedded demo keeps its journal in memory: its chain is new each run.
    !opts.embedded && get(config, 'safety.journalPath') && `journal ${get(config, 'safety.journalPath')}`,
    get(config, 'loop.metricsPort') && `metrics :${get(config, 'loop.metricsPort')}`,
  ]);
  return [chain, hedge, caps, loop].filter((s) => s.length > 0);
}

function eventText(l: Line): string {
  const msg = str(l['msg']) ?? '';
  switch (l['event']) {
    case 'tick':
      return tickText(l);
    case 'keeper.started': {
      const lines = l['config'] ? configLines(l['config'], { embedded: l['embedded'] === true }) : [];
      return [msg, ...lines.map((s) => `    ${s}`)].join('\n');
    }
    default: {
      // An error's own message, when the line's text does not carry it already.
      const err = l['err'] as { message?: unknown } | undefined;
      const why = typeof err?.message === 'string' ? err.message.split('\n')[0] ?? '' : '';
      return why && !msg.includes(why) ? `${msg}: ${why}` : msg;
    }
  }
}

function fieldsText(l: Line): string {
  const rest = Object.entries(l).filter(([k]) => !HIDDEN.has(k));
  return rest.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
}

/** One JSON log line (as pino wrote it) -> the text a person reads, with a trailing newline. */
export function prettyLine(json: string, opts: PrettyOptions): string {
  let l: Line;
  try {
    l = JSON.parse(json) as Line;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const label = String(l['level'] ?? 'info');
  const level = opts.color ? `\u001b[${LEVEL_COLOR[label] ?? '0'}m${label.toUpperCase().padEnd(5)}\u001b[0m` : label.toUpperCase().padEnd(5);
  let text = `${clock(l['time'])} ${level} ${eventText(l)}`;
  if (opts.detail) {
    const fields = fieldsText(l);
    if (fields) text += opts.color ? `  \u001b[90m${fields}\u001b[0m` : `  ${fields}`;
  }
  return `${text}\n`;
}
