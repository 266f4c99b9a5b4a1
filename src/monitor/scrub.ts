import { rpcOrigin } from '../config-reader.js';

/**
 * The one filter every log line (and the CLI's last error) goes through before anyone sees it.
 * Hosted RPC providers put the API key in the URL's path or query, and viem's error text quotes
 * the whole URL and the request body (which, for eth_sendRawTransaction, is the signed
 * transaction): so URLs are cut to their origin and raw transactions to their size.
 */

const URL_IN_TEXT = /\b(?:https?|wss?):\/\/[^\s"'<>\\`]+/gi;
/** Trailing sentence punctuation is not part of a URL quoted in prose. */
const TRAILING = /[.,;:)\]}]+$/;
/** A 0x-hex run not inside a longer word (hashes and addresses are left alone by length). */
const HEX_RUN = /(?<![0-9a-z])0x[0-9a-f]+/gi;
/** A signed transaction is over 90 bytes (the signature alone is 65, the recipient 21); a hash is 32. */
const MIN_RAW_TX_HEX = 2 + 2 * 90;

/** Parts of a URL that can be a key: long path segments, query values, user info. */
function urlSecrets(url: string): string[] {
  if (!URL.canParse(url)) return [];
  const u = new URL(url);
  const parts = [
    ...u.pathname.split('/'),
    ...u.search.slice(1).split('&').map((kv) => kv.slice(kv.indexOf('=') + 1)),
    ...[...u.searchParams.values()],
    u.username,
    u.password,
  ];
  for (const p of [...parts]) {
    try {
      parts.push(decodeURIComponent(p));
    } catch {
      /* not percent-encoded */
    }
  }
  // A key is long or mixes letters and digits; words like "v2", "rpc" or "mainnet" are not keys
  // (and redacting them everywhere would garble unrelated lines).
  return [...new Set(parts.filter((p) => p.length >= 16 || (p.length >= 8 && /\d/.test(p) && /[a-z]/i.test(p))))];
}

/** rpcOrigin, except that a scheme without an origin (`htp:/x`, `data:`) shows nothing. */
function originOf(url: string): string {
  const origin = rpcOrigin(url);
  return origin === 'null' ? '<redacted>' : origin;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Bytes of a signed transaction (typed 0x01..0x04 or legacy RLP list), or null when `hex` is not one. */
export function rawTxBytes(hex: string): number | null {
  if (hex.length < MIN_RAW_TX_HEX || hex.length % 2 !== 0) return null;
  const body = hex.slice(2).toLowerCase();
  const typed = /^0[1-4]f[89a]/.test(body);
  const list = typed ? body.slice(2) : body;
  const prefix = Number.parseInt(list.slice(0, 2), 16);
  if (prefix < 0xf8 || prefix > 0xfa) return null;
  const lenOfLen = prefix - 0xf7;
  const len = Number.parseInt(list.slice(2, 2 + 2 * lenOfLen), 16);
  const exact = list.length === 2 + 2 * lenOfLen + 2 * len;
  // A typed envelope followed by a long RLP list is a transaction even if cut short by a message.
  return exact || typed ? body.length / 2 : null;
}

export interface Scrubber {
  (text: string): string;
}

/** A scrubber for these URLs (RPC endpoints, webhook): compiled once, applied to every line. */
export function createScrubber(urls: readonly string[]): Scrubber {
  const configured = [...new Set(urls.filter((u) => u.length > 0))].sort((a, b) => b.length - a.length);
  const origins = new Set(configured.filter((u) => URL.canParse(u)).map((u) => new URL(u).origin));
  const secrets = [...new Set(configured.flatMap(urlSecrets))].sort((a, b) => b.length - a.length);
  const secretRe = secrets.length > 0 ? new RegExp(secrets.map(escapeRegExp).join('|'), 'gi') : null;
  const exactRe = configured.length > 0 ? new RegExp(configured.map(escapeRegExp).join('|'), 'g') : null;

  const reduceUrl = (match: string): string => {
    const tail = TRAILING.exec(match)?.[0] ?? '';
    const url = tail ? match.slice(0, -tail.length) : match;
    if (!URL.canParse(url)) return match;
    const origin = new URL(url).origin;
    // Any URL on a configured endpoint's host (whatever path viem or a proxy shows), or
    // carrying one of its keys, is shown by origin only.
    const known = origins.has(origin) || (secretRe !== null && new RegExp(secretRe.source, 'i').test(url));
    return known ? `${origin}${tail}` : match;
  };

  return (text) => {
    let out = text;
    if (exactRe) out = out.replace(exactRe, originOf);
    if (configured.length > 0) out = out.replace(URL_IN_TEXT, reduceUrl);
    if (secretRe) out = out.replace(secretRe, '<redacted>');
    return out.replace(HEX_RUN, (hex) => {
      const bytes = rawTxBytes(hex);
      return bytes === null ? hex : `<raw tx ${bytes} bytes>`;
    });
  };
}

/**
 * `text` with every URL in `urls` (and any URL on the same origin or carrying one of their keys)
 * reduced to its origin, and signed raw transactions replaced by `<raw tx N bytes>`.
 */
export function scrubText(text: string, urls: readonly string[]): string {
  return createScrubber(urls)(text);
}
