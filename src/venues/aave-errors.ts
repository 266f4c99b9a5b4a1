import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BaseError, decodeErrorResult, parseAbi, type Hex } from 'viem';

/**
 * Aave V3 reverts with `Error(string)` whose string is a number ('35', '45', ...). The names come from the
 * installed package's own `Errors.sol`, so the table cannot drift from the deployed bytecode.
 */

export interface AaveError {
  /** The revert string, e.g. '45'. */
  code: string;
  /** The constant's name in Errors.sol, e.g. 'HEALTH_FACTOR_NOT_BELOW_THRESHOLD'. */
  name: string;
  /** Aave's comment for it, e.g. 'Health factor is not below the threshold'. */
  description: string;
}

const ERRORS_SOL = 'contracts/protocol/libraries/helpers/Errors.sol';
// string public constant CALLER_NOT_POOL_ADMIN = '1'; // 'The caller of the function is not a pool admin'
const LINE = /string\s+public\s+constant\s+([A-Z0-9_]+)\s*=\s*'(\d+)'\s*;(?:\s*\/\/\s*(.*))?/g;

/** Parse the constants of Aave's Errors.sol source. Exported for tests. */
export function parseAaveErrorsSol(source: string): Map<string, AaveError> {
  const table = new Map<string, AaveError>();
  for (const m of source.matchAll(LINE)) {
    const [, name, code, comment] = m;
    if (!name || !code) continue;
    const description = (comment ?? '').trim().replace(/^'/, '').replace(/'$/, '');
    table.set(code, { code, name, description });
  }
  return table;
}

let table: Map<string, AaveError> | undefined;

/** code -> error, read once from `@aave/core-v3`'s Errors.sol. */
export function aaveErrorTable(): ReadonlyMap<string, AaveError> {
  if (table) return table;
  const require = createRequire(import.meta.url);
  const path = join(dirname(require.resolve('@aave/core-v3/package.json')), ERRORS_SOL);
  const parsed = parseAaveErrorsSol(readFileSync(path, 'utf8'));
  if (parsed.size < 80) throw new Error(`parsed only ${parsed.size} error codes from ${path}`);
  table = parsed;
  return parsed;
}

const errorStringAbi = parseAbi(['error Error(string reason)']);
const ERROR_STRING_SELECTOR = '0x08c379a0';

/** Node and library phrasings of a revert reason; the code must stand alone (not part of a longer number). */
const REASON_PATTERNS = [
  /reverted with the following reason:\s*'?(\d{1,3})'?(?!\d)/,
  /execution reverted:?\s*'?(\d{1,3})'?(?![\d.])/,
  /reverted with reason string\s*'(\d{1,3})'/,
  /reason="(\d{1,3})"/,
];

function lookup(code: string): AaveError | undefined {
  return aaveErrorTable().get(code);
}

function fromRevertData(data: Hex): AaveError | undefined {
  if (!data.toLowerCase().startsWith(ERROR_STRING_SELECTOR)) return undefined;
  try {
    const { args } = decodeErrorResult({ abi: errorStringAbi, data });
    return lookup(args[0]);
  } catch {
    return undefined;
  }
}

function fromText(text: string): AaveError | undefined {
  const trimmed = text.trim();
  if (/^\d{1,3}$/.test(trimmed)) return lookup(trimmed);
  if (/^0x[0-9a-fA-F]*$/.test(trimmed)) return fromRevertData(trimmed as Hex);
  for (const pattern of REASON_PATTERNS) {
    const code = pattern.exec(text)?.[1];
    if (code) return lookup(code);
  }
  return undefined;
}

function isHex(value: unknown): value is Hex {
  return typeof value === 'string' && /^0x[0-9a-fA-F]*$/.test(value);
}

/** Look for revert data or a reason inside an error object (viem's error chain, or any `{data, reason, message}`). */
function fromObject(err: object): AaveError | undefined {
  const chain: object[] = [];
  if (err instanceof BaseError) err.walk((e) => (chain.push(e as object), false));
  else chain.push(err);
  for (const e of chain) {
    const { reason, data } = e as { reason?: unknown; data?: unknown };
    if (typeof reason === 'string' && /^\d{1,3}$/.test(reason)) return lookup(reason);
    if (isHex(data)) {
      const hit = fromRevertData(data);
      if (hit) return hit;
    }
    if (data && typeof data === 'object' && isHex((data as { data?: unknown }).data)) {
      const hit = fromRevertData((data as { data: Hex }).data);
      if (hit) return hit;
    }
  }
  for (const e of chain) {
    const { shortMessage, details, message } = e as { shortMessage?: unknown; details?: unknown; message?: unknown };
    for (const text of [shortMessage, details, message]) {
      if (typeof text !== 'string') continue;
      const hit = fromText(text);
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * Decode an Aave revert from raw revert data (`0x08c379a0…`), a bare code ('45'), a node's message
 * ('execution reverted: 45') or an error object (viem errors are walked to their cause).
 * Returns undefined when the input is not a known Aave error code.
 */
export function decodeAaveError(input: unknown): AaveError | undefined {
  if (typeof input === 'string') return fromText(input);
  if (input && typeof input === 'object') return fromObject(input);
  return undefined;
}
