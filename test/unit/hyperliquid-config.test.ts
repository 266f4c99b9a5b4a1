import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { parsePortfolioYaml } from '../../src/portfolio/file.js';

/** A Hyperliquid venue in keeper.yaml (testnet, bridge) and the agent key in the environment. */

const EXAMPLE = readFileSync(new URL('../../keeper.example.yaml', import.meta.url), 'utf8');
const BRIDGE = '0x2Df1c51E09aECF9cacB7bc98cB1742757f163dF7';
const USER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function withHl(line: string): string {
  return EXAMPLE.replace('venues:\n', `venues:\n  hl: ${line}\n`);
}

describe('keeper.yaml: a Hyperliquid venue', () => {
  it('reads testnet and the bridge', () => {
    const p = parsePortfolioYaml(withHl(`{ kind: hyperliquid, apiUrl: 'https://api.hyperliquid-testnet.xyz/', user: ${USER}, markets: { ETH: ETH }, testnet: true, bridge: ${BRIDGE} }`), 'keeper.yaml');
    expect(p.venues.find((v) => v.id === 'hl')).toMatchObject({ kind: 'hyperliquid', apiUrl: 'https://api.hyperliquid-testnet.xyz', testnet: true, bridge: BRIDGE, markets: { ETH: 'ETH' } });
  });

  it('without a bridge there is none (no top-ups), and mainnet signing', () => {
    const p = parsePortfolioYaml(withHl(`{ kind: hyperliquid, apiUrl: 'https://api.hyperliquid.xyz', user: ${USER}, markets: { ETH: ETH } }`), 'keeper.yaml');
    const hl = p.venues.find((v) => v.id === 'hl');
    expect(hl && 'bridge' in hl).toBe(false);
    expect(hl && 'testnet' in hl).toBe(false);
  });

  it('a bad bridge or testnet value is named with its key path', () => {
    let err: unknown;
    try {
      parsePortfolioYaml(withHl(`{ kind: hyperliquid, apiUrl: 'https://api.hyperliquid.xyz', user: ${USER}, markets: { ETH: ETH }, bridge: 0x12, testnet: maybe }`), 'keeper.yaml');
    } catch (e) {
      err = e;
    }
    const msg = (err as Error).message;
    expect(msg).toContain('keeper.yaml: venues.hl.bridge:');
    expect(msg).toContain('keeper.yaml: venues.hl.testnet:');
  });
});

describe('HYPERLIQUID_AGENT_KEY', () => {
  it('is a secret: kept out of the config summary and shown redacted when malformed', () => {
    const key = `0x${'ab'.repeat(32)}`;
    const c = loadConfig({ HYPERLIQUID_AGENT_KEY: key });
    expect(c.secrets.hyperliquidAgentKey).toBe(key);
    expect(inspect(c.secrets)).not.toContain('abab');
    expect(JSON.stringify({ s: c.secrets })).not.toContain('abab');
    let err: unknown;
    try {
      loadConfig({ HYPERLIQUID_AGENT_KEY: '0xnot-a-key' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([expect.stringMatching(/^HYPERLIQUID_AGENT_KEY=<redacted>: expected 0x followed by 64 hex characters/)]);
  });

  it('unset: none (the keeper key signs its orders)', () => {
    expect(loadConfig({}).secrets.hyperliquidAgentKey).toBeNull();
  });
});
