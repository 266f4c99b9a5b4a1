/**
 * Loader for `@uniswap/v3-sdk` and `@uniswap/sdk-core`.
 *
 * Their ESM builds use directory imports that Node's ESM loader rejects, so they are loaded
 * through their CommonJS entries. Types come from the packages' own declarations (type-only
 * imports are erased, so they never hit the ESM loader).
 *
 * JSBI at this boundary: the SDK's JSBI is not the platform bigint and `encodeSqrtRatioX96`
 * and friends reject a bigint, so values cross the boundary as decimal strings
 * (`toJsbi`) and come back through `toBigint`.
 */
import { createRequire } from 'node:module';
import type * as V3Sdk from '@uniswap/v3-sdk';
import type * as SdkCore from '@uniswap/sdk-core';

/** A JSBI value as the SDK types it (taken from the SDK so the CJS/ESM typing of jsbi never matters). */
export type Jsbi = V3Sdk.Pool['sqrtRatioX96'];
/** The part of the JSBI class we use. */
interface JsbiClass {
  BigInt(from: string): Jsbi;
}

const require = createRequire(import.meta.url);

let v3Cache: typeof V3Sdk | undefined;
let coreCache: typeof SdkCore | undefined;
let jsbiCache: JsbiClass | undefined;

/** `@uniswap/v3-sdk`, loaded once through its CommonJS entry. */
export function v3Sdk(): typeof V3Sdk {
  v3Cache ??= require('@uniswap/v3-sdk') as typeof V3Sdk;
  return v3Cache;
}

/** `@uniswap/sdk-core`, loaded once through its CommonJS entry. */
export function sdkCore(): typeof SdkCore {
  coreCache ??= require('@uniswap/sdk-core') as typeof SdkCore;
  return coreCache;
}

/**
 * The JSBI class the SDK itself uses. Resolved from the v3-sdk package so a second copy of
 * jsbi elsewhere in node_modules can never be the one we build values with.
 */
export function jsbi(): JsbiClass {
  if (!jsbiCache) {
    const fromSdk = createRequire(require.resolve('@uniswap/v3-sdk'));
    jsbiCache = fromSdk('jsbi') as JsbiClass;
  }
  return jsbiCache;
}

export type SdkToken = SdkCore.Token;
export type SdkPool = V3Sdk.Pool;
export type SdkPosition = V3Sdk.Position;

/** bigint -> the SDK's JSBI (via a decimal string, which every SDK entry point accepts). */
export function toJsbi(value: bigint): Jsbi {
  return jsbi().BigInt(value.toString());
}

/** The SDK's JSBI (or a CurrencyAmount's quotient) -> bigint, exactly. */
export function toBigint(value: Jsbi): bigint {
  return BigInt(value.toString());
}

/** An sdk-core Token; the name/symbol only matter for display. */
export function sdkToken(chainId: number, address: string, decimals: number, symbol?: string): SdkCore.Token {
  const { Token } = sdkCore();
  return new Token(chainId, address, decimals, symbol);
}
