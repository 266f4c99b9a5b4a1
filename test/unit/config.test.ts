import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { parse } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSummary, loadConfig, resolveAddresses } from '../../src/config.js';
import { closestKnown, editDistance, unknownVariables } from '../../src/config-names.js';

const ETH = 10n ** 18n;
const KEY = `0x${'4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'}`;
const PASSWORD = 'correct horse battery staple';
const A1 = '0x5FbDB2315678afecb367f032d93F642f64180aa3'; // valid EIP-55
const A2 = '0xe7f1725e7734ce288f8367e1bb143e90bb3f0512'; // lowercase
const LIVE = { RPC_URLS: 'http://127.0.0.1:8545', PRIVATE_KEY: KEY, ADDRESSES_FILE: './addresses.json' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error('loadConfig accepted a bad configuration');
}

describe('loadConfig: defaults', () => {
  it('an empty environment is a devnet keeper with the documented defaults', () => {
    const c = loadConfig({});
    expect(c.chain).toEqual({ rpcUrls: [], devnet: true, chainId: null, multicall3: '0xcA11bde05977b3631167028862bE2a173976CA11' });
    expect(c.signer).toEqual({ kind: 'none' });
    expect(c.venue).toBe('perp');
    expect(c.perpMarketId).toBe(1n);
    expect(c.policy).toEqual({
      hedgeRatioE18: ETH, deltaBandWei: ETH / 2n, deltaBandPctE18: 5n * 10n ** 16n, hysteresisE18: ETH / 2n,
      cooldownSec: 60, minTradeWei: ETH / 100n, maxTradeWei: 50n * ETH,
      marginTriggerE18: 15n * 10n ** 16n, marginTargetE18: 25n * 10n ** 16n, hfTriggerE18: 13n * 10n ** 17n, hfTargetE18: 16n * 10n ** 17n,
      maxSlippageBps: 50, includeNativeEth: false, bandMode: 'adaptive',
      band: {
        volRefAnnual: 1, minWei: ETH / 10n, maxWei: 100n * ETH, wwCostBps: 10, wwRiskAversionPerUsd: 0.0005, rebalancePeriodSec: 3600,
        adaptiveCostBps: 5, adaptiveRiskAversionPerUsd: 0.000093, volFastHalfLifeSec: 14_400,
      },
    });
    expect(c.guard).toEqual({
      maxTradeWei: 50n * ETH, maxNotionalPerDayUsdE8: 1_000_000n * 10n ** 8n, maxTopUpUnits: 100_000n * 10n ** 6n, maxGasPriceWei: 200n * 10n ** 9n,
      maxTopUpPerDayUnits: 500_000n * 10n ** 6n,
    });
    expect(c.loop).toEqual({ tickMode: 'block', tickIntervalMs: 2000, logLevel: 'info', logFormat: 'auto', dataDir: './data', metricsPort: null,
      metricsHost: '127.0.0.1', healthMaxTickAgeSec: 120 });
  });

  it('.env.example, as dotenv reads it, gives exactly the defaults', () => {
    const example = parse(readFileSync(new URL('../../.env.example', import.meta.url)));
    expect(Object.keys(example).length).toBeGreaterThanOrEqual(40);
    expect(configSummary(loadConfig(example))).toEqual(configSummary(loadConfig({})));
  });

  it('converts human units to base units and E18 ratios', () => {
    const c = loadConfig({
      ...LIVE, CHAIN_ID: '42161', HEDGE_RATIO: '0.5', DELTA_BAND_PCT: '2.5', HYSTERESIS_PCT: '100', MAX_TOPUP_USDC: '1234.56',
      MAX_GAS_PRICE_GWEI: '1.5', MAX_NOTIONAL_PER_DAY_USD: '0.01', MIN_TRADE_ETH: '.001', INCLUDE_NATIVE_ETH: 'true', METRICS_PORT: '9464',
      METRICS_HOST: '0.0.0.0', HEALTH_MAX_TICK_AGE_SEC: '30',
      RPC_URLS: ' https://a.example/v2/k , wss://b.example ,', HEDGE_VENUE: 'aave', WETH: A1, USDC: A2, COOLDOWN_SEC: '0',
    });
    expect(c.chain).toEqual({ rpcUrls: ['https://a.example/v2/k', 'wss://b.example'], devnet: false, chainId: 42161, multicall3: '0xcA11bde05977b3631167028862bE2a173976CA11' });
    expect(c.policy.hedgeRatioE18).toBe(ETH / 2n);
    expect(c.policy.deltaBandPctE18).toBe(25n * 10n ** 15n);
    expect(c.policy.hysteresisE18).toBe(ETH);
    expect(c.policy.minTradeWei).toBe(ETH / 1000n);
    expect(c.policy.includeNativeEth).toBe(true);
    expect(c.policy.cooldownSec).toBe(0);
    expect(c.guard.maxTopUpUnits).toBe(1_234_560_000n);
    expect(c.guard.maxGasPriceWei).toBe(1_500_000_000n);
    expect(c.guard.maxNotionalPerDayUsdE8).toBe(1_000_000n);
    expect(c.loop.metricsPort).toBe(9464);
    expect(c.loop.metricsHost).toBe('0.0.0.0');
    expect(c.loop.healthMaxTickAgeSec).toBe(30);
    expect(c.venue).toBe('aave');
    expect(c.addresses.weth).toBe(A1);
    expect(c.addresses.usdc).toBe(A2);
    expect(c.signer).toEqual({ kind: 'privateKey' });
    expect(c.secrets.privateKey).toBe(KEY);
  });

  it('is deeply frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c) && Object.isFrozen(c.policy) && Object.isFrozen(c.chain.rpcUrls)).toBe(true);
    expect(() => {
      (c.policy as { hedgeRatioE18: bigint }).hedgeRatioE18 = 0n;
    }).toThrow(TypeError);
  });
});

describe('loadConfig: one line per bad variable', () => {
  const bad: [string, string][] = [
    ['RPC_URLS', 'ftp://node.example'], ['CHAIN_ID', '0'], ['PERP_MARKET_ID', '-1'], ['HEDGE_VENUE', 'gmx'],
    ['ORACLE_FEED', '0x123'], ['USDC_FEED', 'feed'], ['WETH', '0x5FbDB2315678afecb367f032d93F642f64180aA3'], ['USDC', '0xZZ'],
    ['UNISWAP_POSITION_MANAGER', '1'], ['UNISWAP_POOL', '0x'], ['UNISWAP_SWAP_ROUTER', 'x'], ['UNISWAP_QUOTER', '0x1'],
    ['PERP_EXCHANGE', 'y'], ['AAVE_POOL_ADDRESSES_PROVIDER', '0x00'],
    ['HEDGE_RATIO', '2.5'], ['DELTA_BAND_ETH', '-1'], ['DELTA_BAND_PCT', '101'], ['HYSTERESIS_PCT', '150'], ['COOLDOWN_SEC', '1.5'],
    ['MIN_TRADE_ETH', 'abc'], ['MAX_TRADE_ETH', '0'], ['MARGIN_TRIGGER_RATIO', '0'], ['MARGIN_TARGET_RATIO', 'x'],
    ['HF_TRIGGER', '1'], ['HF_TARGET', '0.9'], ['MAX_SLIPPAGE_BPS', '0'], ['INCLUDE_NATIVE_ETH', 'maybe'], ['BAND_MODE', 'auto'],
    ['MAX_NOTIONAL_PER_DAY_USD', '0'], ['MAX_TOPUP_USDC', '1e6'], ['MAX_GAS_PRICE_GWEI', '-5'], ['TICK_MODE', 'cron'],
    ['TICK_INTERVAL_MS', '10'], ['LOG_LEVEL', 'verbose'], ['LOG_FORMAT', 'xml'], ['METRICS_PORT', '70000'], ['HEALTH_MAX_TICK_AGE_SEC', '0'],
    ['BAND_VOL_REF_ANNUAL', '0'], ['BAND_MIN_ETH', '-0.1'], ['BAND_MAX_ETH', '0'], ['WW_COST_BPS', '1001'],
    ['WW_RISK_AVERSION', '0'], ['REBALANCE_PERIOD_SEC', '0'],
  ];
  // A set RPC_URLS means a live keeper, which also needs a signer and addresses: give it both.
  const withContext = (env: Record<string, string>): Record<string, string> => ('RPC_URLS' in env ? { ...LIVE, ...env } : env);
  it.each(bad)('%s=%s', (name, value) => {
    const lines = problems(withContext({ [name]: value }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${name}=${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\S`));
  });

  it('all of them at once: one line each, in one error', () => {
    const lines = problems(withContext(Object.fromEntries(bad)));
    expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toEqual(expect.arrayContaining(bad.map(([n]) => n)));
    expect(lines).toHaveLength(bad.length);
  });

  it('treats empty values as unset (dotenv writes VAR= as an empty string)', () => {
    expect(loadConfig({ HEDGE_RATIO: '', CHAIN_ID: '  ' }).policy.hedgeRatioE18).toBe(ETH);
  });
});

describe('loadConfig: cross-field checks', () => {
  it.each([
    [{ MARGIN_TRIGGER_RATIO: '0.3' }, 'MARGIN_TRIGGER_RATIO=0.3: must be below MARGIN_TARGET_RATIO (0.25)'],
    [{ MARGIN_TRIGGER_RATIO: '0.2', MARGIN_TARGET_RATIO: '0.2' }, 'MARGIN_TRIGGER_RATIO=0.2: must be below MARGIN_TARGET_RATIO (0.2)'],
    [{ HF_TRIGGER: '1.7' }, 'HF_TRIGGER=1.7: must be below HF_TARGET (1.6)'],
    [{ MIN_TRADE_ETH: '60' }, 'MIN_TRADE_ETH=60: must be <= MAX_TRADE_ETH (50)'],
    [{ BAND_MIN_ETH: '200' }, 'BAND_MIN_ETH=200: must be <= BAND_MAX_ETH (100)'],
    [{ DELTA_BAND_ETH: '0', DELTA_BAND_PCT: '0' }, 'DELTA_BAND_ETH=0: the band must be > 0: DELTA_BAND_ETH and DELTA_BAND_PCT cannot both be 0'],
    [{ RPC_URLS: 'http://x', ADDRESSES_FILE: 'a.json' }, 'PRIVATE_KEY=(unset): required when RPC_URLS is set'],
    [{ KEYSTORE_PATH: '/k.json' }, 'KEYSTORE_PASSWORD=(unset): required with KEYSTORE_PATH'],
    [{ KEYSTORE_PASSWORD: PASSWORD }, 'KEYSTORE_PATH=(unset): required with KEYSTORE_PASSWORD'],
  ] as [Record<string, string>, string][])('%o', (env, line) => {
    const lines = problems(env);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(line);
  });

  it('band modes: time and its parameters, in human units', () => {
    const c = loadConfig({
      BAND_MODE: 'time', REBALANCE_PERIOD_SEC: '900', BAND_VOL_REF_ANNUAL: '0.8', BAND_MIN_ETH: '0.25', BAND_MAX_ETH: '12.5',
      WW_COST_BPS: '7.5', WW_RISK_AVERSION: '0.002',
    });
    expect(c.policy.bandMode).toBe('time');
    expect(c.policy.band).toEqual({
      volRefAnnual: 0.8, minWei: ETH / 4n, maxWei: 125n * ETH / 10n, wwCostBps: 7.5, wwRiskAversionPerUsd: 0.002, rebalancePeriodSec: 900,
      adaptiveCostBps: 5, adaptiveRiskAversionPerUsd: 0.000093, volFastHalfLifeSec: 14_400,
    });
  });

  it('band may come from the percentage alone', () => {
    expect(loadConfig({ DELTA_BAND_ETH: '0' }).policy.deltaBandWei).toBe(0n);
  });

  it.each([
    ['perp', ['ORACLE_FEED', 'WETH', 'USDC', 'UNISWAP_POSITION_MANAGER', 'UNISWAP_POOL', 'PERP_EXCHANGE']],
    ['aave', ['ORACLE_FEED', 'WETH', 'USDC', 'UNISWAP_POSITION_MANAGER', 'UNISWAP_POOL', 'AAVE_POOL_ADDRESSES_PROVIDER', 'UNISWAP_SWAP_ROUTER', 'UNISWAP_QUOTER']],
  ])('live %s without an addresses file names each missing address', (venue, names) => {
    const lines = problems({ RPC_URLS: 'http://x', PRIVATE_KEY: KEY, HEDGE_VENUE: venue });
    expect(lines.map((l) => l.split('=')[0]).sort()).toEqual([...names].sort());
    for (const l of lines) expect(l).toMatch(/=\(unset\): required with HEDGE_VENUE=/);
  });

  it('keystore signer', () => {
    const c = loadConfig({ RPC_URLS: 'http://x', ADDRESSES_FILE: 'a.json', KEYSTORE_PATH: '/k.json', KEYSTORE_PASSWORD: PASSWORD });
    expect(c.signer).toEqual({ kind: 'keystore', keystorePath: '/k.json' });
    expect(c.secrets.keystorePassword).toBe(PASSWORD);
    expect(c.secrets.privateKey).toBeNull();
  });
});

describe('secrets', () => {
  it('a bad private key is reported without its value', () => {
    const badKey = `0x${'ab'.repeat(31)}`;
    const lines = problems({ PRIVATE_KEY: badKey });
    expect(lines).toEqual(['PRIVATE_KEY=<redacted>: expected 0x followed by 64 hex characters']);
  });

  it('conflicting signers are reported without the key or the password', () => {
    try {
      loadConfig({ ...LIVE, KEYSTORE_PATH: '/k', KEYSTORE_PASSWORD: PASSWORD });
      throw new Error('accepted');
    } catch (e) {
      const text = `${(e as Error).message}\n${inspect(e)}`;
      expect(text).toContain('PRIVATE_KEY=<redacted>: set either PRIVATE_KEY or KEYSTORE_PATH + KEYSTORE_PASSWORD, not both');
      expect(text).not.toContain(KEY.slice(2, 20));
      expect(text).not.toContain(PASSWORD);
    }
  });

  it('never appear in JSON, inspect, String or the summary', () => {
    const c = loadConfig({ ...LIVE, PRIVATE_KEY: KEY });
    const k = loadConfig({ ...LIVE, PRIVATE_KEY: '', KEYSTORE_PATH: '/k', KEYSTORE_PASSWORD: PASSWORD });
    for (const cfg of [c, k]) {
      const renders = [
        inspect(cfg, { depth: null, showHidden: true }), JSON.stringify(configSummary(cfg)), JSON.stringify({ s: cfg.secrets }),
        String(cfg.secrets), `${cfg.secrets}`, JSON.stringify(Object.entries(cfg.secrets)),
      ];
      for (const r of renders) {
        expect(r).not.toContain(KEY.slice(2, 20));
        expect(r).not.toContain(PASSWORD);
      }
      expect(Object.keys(cfg.secrets)).toEqual([]);
    }
    expect(JSON.stringify(configSummary(c))).toContain('"secrets":"<redacted>"');
  });

  it('the summary keeps RPC origins only (API keys live in paths)', () => {
    const c = loadConfig({ ...LIVE, RPC_URLS: 'https://eth.example/v2/SECRETAPIKEY' });
    expect(JSON.stringify(configSummary(c))).not.toContain('SECRETAPIKEY');
    expect((configSummary(c)['chain'] as { rpcUrls: string[] }).rpcUrls).toEqual(['https://eth.example']);
  });
});

describe('resolveAddresses', () => {
  const file = {
    oracleFeed: A2, weth: A2, usdc: A2, uniswapPositionManager: A2, uniswapPool: A2, perpExchange: A2,
  };
  it('fills from the file, the environment wins', () => {
    const c = loadConfig({ ...LIVE, WETH: A1 });
    const a = resolveAddresses(c, file);
    expect(a.weth).toBe(A1);
    expect(a.oracleFeed).toBe(A2);
    expect(a.aavePoolAddressesProvider).toBeNull();
  });
  it('names what is missing or invalid', () => {
    const c = loadConfig({ ...LIVE, HEDGE_VENUE: 'aave' });
    expect(() => resolveAddresses(c, { ...file, usdc: '0xnope' })).toThrow(ConfigError);
    try {
      resolveAddresses(c, { ...file, usdc: '0xnope' });
    } catch (e) {
      expect([...(e as ConfigError).problems].sort()).toEqual([
        'AAVE_POOL_ADDRESSES_PROVIDER=(unset): required with HEDGE_VENUE=aave, in the environment or the addresses file',
        'UNISWAP_QUOTER=(unset): required with HEDGE_VENUE=aave, in the environment or the addresses file',
        'UNISWAP_SWAP_ROUTER=(unset): required with HEDGE_VENUE=aave, in the environment or the addresses file',
        'USDC=(unset): required with HEDGE_VENUE=aave, in the environment or the addresses file',
        'USDC=(unset): the addresses file has an invalid usdc (0xnope)',
      ]);
    }
  });
});

describe('variables that look like ours but are not', () => {
  it.each([
    ['RPC_URL', 'RPC_URLS'], ['HEDGE_RATO', 'HEDGE_RATIO'], ['MAX_SLIPAGE_BPS', 'MAX_SLIPPAGE_BPS'], ['HEDGE_RATOI', 'HEDGE_RATIO'],
    ['rpc_urls', 'RPC_URLS'], ['Hedge_Venue', 'HEDGE_VENUE'], ['LOGLEVEL', 'LOG_LEVEL'], ['PRIVATEKEY', 'PRIVATE_KEY'], ['CHAINID', 'CHAIN_ID'],
    ['MAX_TOPUP_USD', 'MAX_TOPUP_USDC'], ['ORACLE_FEEDS', 'ORACLE_FEED'], ['AAVE_POOL', 'AAVE_POOL_ADDRESSES_PROVIDER'],
    ['KEYSTORE_PASSWORD_FILE', 'KEYSTORE_PASSWORD'],
  ])('%s: did you mean %s?', (name, known) => {
    expect(problems({ [name]: '1' })).toEqual([`${name}: unknown variable; did you mean ${known}?`]);
  });

  it('a misspelled RPC_URL next to a key and an addresses file stops the keeper instead of running the devnet', () => {
    expect(problems({ RPC_URL: 'https://eth.example/v2/KEY', PRIVATE_KEY: KEY, ADDRESSES_FILE: './a.json' })).toEqual([
      'RPC_URL: unknown variable; did you mean RPC_URLS?',
    ]);
  });

  it.each(['HEDGE_FOO', 'ORACLE_HEARTBEAT_SEC', 'METRICS_PATH', 'JOURNAL_DIR', 'MAX_TOPUP_PER_WEEK_USDC', 'TICK_EVERY', 'LOG_FILE'])(
    '%s: our prefix, no such variable',
    (name) => {
      const lines = problems({ [name]: 'x' });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${name}: unknown variable \\(`));
    },
  );

  it('one line per unknown variable, with the other problems, never showing a value', () => {
    const lines = problems({ PRIVATE_KY: KEY, HEDGE_RATO: '0.5', HEDGE_RATIO: 'lots', ALERT_WEBHOOK: 'https://hooks.example/SECRET' });
    expect(lines).toEqual([
      'HEDGE_RATIO=lots: expected a plain decimal number >= 0 and <= 2',
      'ALERT_WEBHOOK: unknown variable; did you mean ALERT_WEBHOOK_URL?',
      'HEDGE_RATO: unknown variable; did you mean HEDGE_RATIO?',
      'PRIVATE_KY: unknown variable; did you mean PRIVATE_KEY?',
    ]);
    expect(lines.join('\n')).not.toContain(KEY.slice(2, 20));
    expect(lines.join('\n')).not.toContain('SECRET');
  });

  it('an empty misspelling (dotenv writes VAR= as "") does nothing, and is let through', () => {
    expect(() => loadConfig({ RPC_URL: '', HEDGE_RATO: '  ' })).not.toThrow();
  });

  it('IGNORE_VARS lets through names another program sets under our prefixes', () => {
    expect(() => loadConfig({ HEDGE_FOO: '1', MAX_CONNECTIONS: '5', IGNORE_VARS: 'HEDGE_FOO, MAX_CONNECTIONS' })).not.toThrow();
    expect(problems({ HEDGE_FOO: '1', MAX_CONNECTIONS: '5', IGNORE_VARS: 'HEDGE_FOO' })).toHaveLength(1);
  });

  it('no false positives on what shells, npm, CI, systemd, containers and other tools set', () => {
    const common = [
      'PATH', 'HOME', 'USER', 'SHELL', 'TERM', 'LANG', 'LC_ALL', 'PWD', 'OLDPWD', 'SHLVL', 'HOSTNAME', 'LOGNAME', 'TMPDIR', 'EDITOR', 'PAGER', 'LESS',
      'MAIL', 'DISPLAY', 'COLUMNS', 'LINES', 'TZ', 'DEBUG', '_', 'NODE_ENV', 'NODE_OPTIONS', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'CI',
      'GITHUB_ACTIONS', 'GITHUB_SHA', 'GITHUB_WORKSPACE', 'RUNNER_OS', 'RUNNER_TEMP', 'GITLAB_CI', 'BUILDKITE', 'npm_config_cache',
      'npm_config_user_agent', 'npm_package_name', 'npm_package_version', 'npm_lifecycle_event', 'npm_lifecycle_script', 'npm_execpath',
      'npm_node_execpath', 'npm_command', 'INIT_CWD', 'VITEST', 'VITEST_MODE', 'VITEST_POOL_ID', 'VITEST_WORKER_ID', 'TEST', 'HTTP_PROXY',
      'https_proxy', 'NO_PROXY', 'no_proxy', 'FORCE_COLOR', 'NO_COLOR', 'COLORTERM', 'TERM_PROGRAM', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME',
      'SSH_AUTH_SOCK', 'SSH_CONNECTION', 'JOURNAL_STREAM', 'INVOCATION_ID', 'NOTIFY_SOCKET', 'SYSTEMD_EXEC_PID', 'MAINPID', 'WATCHDOG_USEC',
      'STATE_DIRECTORY', 'LOGS_DIRECTORY', 'RUNTIME_DIRECTORY', 'CREDENTIALS_DIRECTORY', 'HF_HOME', 'HF_TOKEN', 'ORACLE_HOME', 'ORACLE_SID',
      'DELTA_PAGER', 'DELTA_FEATURES', 'ANVIL_BIN', 'FORK_URL', 'FORK_BLOCK', 'CHROMIUM_PATH', 'CHAOS_RESULTS', 'DOCKER_HOST',
      'KUBERNETES_SERVICE_HOST', 'KUBERNETES_PORT', 'PYTHONPATH', 'VIRTUAL_ENV', 'JAVA_HOME', 'GOPATH', 'CARGO_HOME', 'LD_LIBRARY_PATH',
      'MANPATH', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'RUST_BACKTRACE', 'DEBIAN_FRONTEND',
      'PIP_CERT', 'PYENV_ROOT', 'IS_SANDBOX', 'CONTAINER_NAME', 'AWS_REGION', 'AWS_PROFILE', 'GOOGLE_APPLICATION_CREDENTIALS', 'ETH_RPC_URL',
      'ETHERSCAN_API_KEY', 'FOUNDRY_PROFILE', 'ALCHEMY_API_KEY', 'INFURA_API_KEY', 'DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST',
    ];
    const env = Object.fromEntries(common.map((n) => [n, 'some value']));
    expect(() => loadConfig(env)).not.toThrow();
    expect(unknownVariables(env, new Set(Object.keys(parse(readFileSync(new URL('../../.env.example', import.meta.url))))))).toEqual([]);
  });

  it('every variable in .env.example is known (a copied example passes as is)', () => {
    const example = parse(readFileSync(new URL('../../.env.example', import.meta.url)));
    const filled = Object.fromEntries(Object.keys(example).map((k) => [k, example[k] || 'x']));
    const lines = (() => {
      try {
        loadConfig(filled);
        return [];
      } catch (e) {
        return [...(e as ConfigError).problems];
      }
    })();
    expect(lines.filter((l) => /unknown variable/.test(l))).toEqual([]);
  });

  it('edit distance counts an adjacent swap as one edit; near-misses need length >= 5', () => {
    expect(editDistance('HEDGE_RATIO', 'HEDGE_RATOI')).toBe(1);
    expect(editDistance('RPC_URL', 'RPC_URLS')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closestKnown('RPC_URLZZZ', ['RPC_URLS'])).toBeNull();
    // USER is two edits from USDC, but too short to judge.
    expect(unknownVariables({ USER: 'me', WETH9: '1' }, new Set(['USDC', 'WETH']))).toEqual(['WETH9: unknown variable; did you mean WETH?']);
  });
});

describe('booleans are true or false, nothing else', () => {
  it.each(['yes', 'no', '1', '0', 'TRUE', 'False', 'on'])('INCLUDE_NATIVE_ETH=%s is refused, naming the variable', (v) => {
    expect(problems({ INCLUDE_NATIVE_ETH: v })).toEqual([`INCLUDE_NATIVE_ETH=${v}: expected true or false`]);
  });
  it('true and false', () => {
    expect(loadConfig({ INCLUDE_NATIVE_ETH: 'true' }).policy.includeNativeEth).toBe(true);
    expect(loadConfig({ INCLUDE_NATIVE_ETH: 'false' }).policy.includeNativeEth).toBe(false);
    expect(loadConfig({}).policy.includeNativeEth).toBe(false);
  });
});
