import { Decimal } from 'decimal.js';
import { isAddress, parseUnits, type Hex } from 'viem';
import { z } from 'zod';
import type { Address } from './core/types.js';

/**
 * The pieces loadConfig (src/config.ts) is made of: the secrets holder, the error with one line
 * per problem, and the Reader that parses one variable at a time and collects the problems.
 */

export const REDACTED = '<redacted>';

/**
 * What of an RPC URL may be shown (logs, errors, metrics labels): its origin. Providers put API
 * keys in the path or query, so nothing else of it is ever printed.
 */
export function rpcOrigin(url: string, fallback: string = REDACTED): string {
  return URL.canParse(url) ? new URL(url).origin : fallback;
}
const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/** Holds the signing secrets; JSON, String() and util.inspect show only `<redacted>`. */
export class Secrets {
  readonly #privateKey: Hex | null;
  readonly #keystorePassword: string | null;
  readonly #hyperliquidAgentKey: Hex | null;
  constructor(privateKey: Hex | null, keystorePassword: string | null, hyperliquidAgentKey: Hex | null = null) {
    this.#privateKey = privateKey;
    this.#keystorePassword = keystorePassword;
    this.#hyperliquidAgentKey = hyperliquidAgentKey;
    Object.freeze(this);
  }
  get privateKey(): Hex | null {
    return this.#privateKey;
  }
  get keystorePassword(): string | null {
    return this.#keystorePassword;
  }
  /** HYPERLIQUID_AGENT_KEY: the API wallet that signs Hyperliquid orders for the user, so the main key never does. */
  get hyperliquidAgentKey(): Hex | null {
    return this.#hyperliquidAgentKey;
  }
  toJSON(): string {
    return REDACTED;
  }
  toString(): string {
    return REDACTED;
  }
  [inspectCustom](): string {
    return `Secrets ${REDACTED}`;
  }
}

/** One line per problem: `VAR=<value or (unset)>: what is expected`. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

export type Env = Record<string, string | undefined>;
const SECRET_VARS = new Set(['PRIVATE_KEY', 'KEYSTORE_PASSWORD', 'HYPERLIQUID_AGENT_KEY']);

const decimalString = z.string().regex(/^(\d+(\.\d*)?|\.\d+)$/);
const intString = z.string().regex(/^\d+$/);

interface Range {
  min?: number;
  max?: number;
  /** Exclusive lower bound (value must be > min). */
  above?: boolean;
}

/** Reads variables one at a time, collecting a problem line per bad variable. */
export class Reader {
  readonly problems: string[] = [];
  readonly bad = new Set<string>();
  /** Every name read: loadConfig reads each of its variables unconditionally, so this is the known set. */
  readonly asked = new Set<string>();
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    this.asked.add(name);
    const v = this.env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  }

  fail(name: string, expected: string): void {
    const v = this.raw(name);
    const shown = v === undefined ? '(unset)' : SECRET_VARS.has(name) ? REDACTED : v;
    this.problems.push(`${name}=${shown}: ${expected}`);
    this.bad.add(name);
  }

  ok(...names: string[]): boolean {
    return names.every((n) => !this.bad.has(n));
  }

  parse<T>(name: string, def: string | undefined, schema: z.ZodType<T>, expected: string, fallback: T): T {
    const v = this.raw(name) ?? def;
    if (v === undefined) return fallback;
    const r = schema.safeParse(v);
    if (r.success) return r.data;
    this.fail(name, expected);
    return fallback;
  }

  decimal(name: string, def: string, range: Range): Decimal {
    const lo = range.min === undefined ? '' : `${range.above ? '>' : '>='} ${range.min}`;
    const hi = range.max === undefined ? '' : `<= ${range.max}`;
    const expected = `expected a plain decimal number${lo || hi ? ` ${[lo, hi].filter(Boolean).join(' and ')}` : ''}`;
    const schema = decimalString.transform((s) => new Decimal(s)).refine((d) => {
      if (range.min !== undefined && (range.above ? d.lte(range.min) : d.lt(range.min))) return false;
      return range.max === undefined || d.lte(range.max);
    });
    return this.parse(name, def, schema, expected, new Decimal(def));
  }

  int(name: string, def: string | undefined, min: number, max: number): number | null {
    const schema = intString.transform(Number).refine((n) => Number.isSafeInteger(n) && n >= min && n <= max);
    return this.parse<number | null>(name, def, schema, `expected an integer from ${min} to ${max}`, null);
  }

  choice<T extends string>(name: string, def: T, values: readonly [T, ...T[]]): T {
    return this.parse(name, def, z.enum(values), `expected one of ${values.join(', ')}`, def);
  }

  bool(name: string, def: boolean): boolean {
    // Only the two words: a boolean the keeper has to interpret (yes, 1, on) can be read the
    // other way than meant, and INCLUDE_NATIVE_ETH=true sells the gas money.
    const schema = z.enum(['true', 'false']).transform((s) => s === 'true');
    return this.parse(name, String(def), schema, 'expected true or false', def);
  }

  address(name: string): Address | null {
    const schema = z.string().refine((s) => isAddress(s)).transform((s) => s as Address);
    const expected = 'expected a 0x address (40 hex characters, valid EIP-55 checksum if mixed case)';
    return this.parse<Address | null>(name, undefined, schema, expected, null);
  }

  string(name: string, def?: string): string | null {
    return this.raw(name) ?? def ?? null;
  }
}

/** Decimal in human units -> bigint with `decimals` (parseUnits is string based: no float). */
export function units(d: Decimal, decimals: number): bigint {
  return parseUnits(d.toFixed(), decimals);
}

