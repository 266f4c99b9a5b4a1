/**
 * Variables that look like the keeper's but are not: a misspelled RPC_URL used to run the
 * embedded devnet in silence, a HEDGE_RATO was ignored. loadConfig reads every variable it knows
 * unconditionally, so the names it asked for ARE the known set; this module judges the rest of
 * the environment against them.
 *
 * The environment also holds many variables that are none of ours (PATH, npm_*, NODE_*, CI,
 * systemd's and the shell's), so only two kinds of names count: a near-miss of a known name, and
 * a name under one of the prefixes only our variables use.
 */

/**
 * Prefixes that only keeper variables use. Left out on purpose: HF_ (Hugging Face's HF_HOME,
 * HF_TOKEN), DATA_, PRIVATE_ and USDC_/WETH_ (too generic); their typos are still near-misses.
 */
export const KEEPER_PREFIXES: readonly string[] = [
  'RPC_', 'CHAIN_', 'KEYSTORE_', 'ADDRESSES_', 'UNISWAP_', 'PERP_', 'AAVE_', 'ORACLE_', 'HEDGE_', 'DELTA_', 'MARGIN_',
  'MAX_', 'MIN_', 'BAND_', 'WW_', 'REBALANCE_', 'REPLACE_', 'TICK_', 'LOG_', 'METRICS_', 'HEALTH_', 'JOURNAL_', 'ALERT_',
  'PORTFOLIO_',
];

/**
 * Names other programs set under our prefixes, and variables read outside loadConfig: never
 * reported. (systemd sets JOURNAL_STREAM for a service logging to journald; Oracle's client
 * ORACLE_HOME and friends; git-delta DELTA_PAGER / DELTA_FEATURES.)
 */
export const FOREIGN_VARIABLES: ReadonlySet<string> = new Set([
  'JOURNAL_STREAM', 'ORACLE_HOME', 'ORACLE_BASE', 'ORACLE_SID', 'ORACLE_UNQNAME', 'ORACLE_PATH', 'ORACLE_TERM',
  'DELTA_PAGER', 'DELTA_FEATURES', 'ANVIL_BIN', 'FORK_URL', 'FORK_BLOCK', 'CI',
]);

/** Shortest names worth a near-miss check: below this, unrelated names sit within 2 edits of WETH/USDC. */
const MIN_NEAR_MISS_LENGTH = 5;
const MAX_NEAR_MISS_DISTANCE = 2;

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (RATOI for RATIO). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  const first = rows[0] as number[];
  for (let j = 0; j <= b.length; j++) first[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const prev = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (rows[i - 2] as number[])[j - 2] as number + 1);
      row[j] = d;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/**
 * The known name closest to `name` (case-insensitive), if within the near-miss distance; with
 * `extends`, also a known name that one of them starts with (ALERT_WEBHOOK for ALERT_WEBHOOK_URL).
 */
export function closestKnown(name: string, known: Iterable<string>, opts: { extends?: boolean } = {}): string | null {
  const upper = name.toUpperCase();
  let best: { name: string; d: number } | null = null;
  for (const k of known) {
    const d = editDistance(upper, k);
    const near = d <= MAX_NEAR_MISS_DISTANCE || (opts.extends === true && (k.startsWith(upper) || upper.startsWith(k)));
    if (near && (best === null || d < best.d || (d === best.d && k < best.name))) best = { name: k, d };
  }
  return best?.name ?? null;
}

/**
 * One problem line per variable that looks like ours but is not one (`NAME: unknown variable;
 * did you mean X?`). Values are never shown: a misspelled PRIVATE_KEY holds a key. Empty values
 * are skipped (dotenv writes `VAR=` as ''; an unset misspelling does nothing).
 */
export function unknownVariables(env: Record<string, string | undefined>, known: ReadonlySet<string>, ignored: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (known.has(name) || FOREIGN_VARIABLES.has(name) || ignored.has(name)) continue;
    if ((env[name] ?? '').trim() === '') continue;
    const upper = name.toUpperCase();
    const ours = KEEPER_PREFIXES.some((p) => upper.startsWith(p));
    const suggestion = upper.length >= MIN_NEAR_MISS_LENGTH ? closestKnown(name, known, { extends: ours }) : null;
    if (suggestion !== null) {
      problems.push(`${name}: unknown variable; did you mean ${suggestion}?`);
    } else if (ours) {
      problems.push(`${name}: unknown variable (no keeper variable has this name; see .env.example, or list it in IGNORE_VARS)`);
    }
  }
  return problems;
}
