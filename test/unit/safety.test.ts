import { describe, expect, it } from 'vitest';
import { checkTxBounds, type TxBoundsContext } from '../../src/core/guard-tx.js';
import { bumpFee } from '../../src/chain/sender.js';
import { openJournal } from '../../src/journal/journal.js';
import { alertText, createAlerter } from '../../src/monitor/alerts.js';
import { decryptKeystore, encryptKeystore, KeystoreError } from '../../src/chain/keystore.js';
import { privateKeyToAddress } from 'viem/accounts';

const WETH = '0x00000000000000000000000000000000000000aa';
const USDC = '0x00000000000000000000000000000000000000bb';
const ctx: TxBoundsContext = { priceE8: 2000n * 10n ** 8n, quotePriceE8: 10n ** 8n, maxSlippageBps: 50, weth: WETH, usdc: USDC };
const ETH = 10n ** 18n;
/** A swap whose quote sits exactly at its limit (the guard checks the limit against the oracle). */
const quoted = (limitAmount: bigint) => ({ kind: 'quote', quotedAmount: limitAmount, limitAmount }) as const;

describe('transaction price bounds vs the oracle (deny by default)', () => {
  it.each([
    ['sell at -0.5% is fine', -ETH, 1990n * 10n ** 8n, true],
    ['sell at -0.6% is refused', -ETH, 1988n * 10n ** 8n, false],
    ['buy at +0.5% is fine', ETH, 2010n * 10n ** 8n, true],
    ['buy at +0.6% is refused', ETH, 2012n * 10n ** 8n, false],
  ])('perp trade: %s', (_name, size, acceptable, ok) => {
    expect(checkTxBounds({ functionName: 'trade', args: [1n, size, acceptable], bound: { kind: 'oracle-price', acceptablePriceE8: acceptable } }, ctx).ok).toBe(ok);
  });

  it.each([
    ['WETH->USDC min out at -0.5%', { tokenIn: WETH, tokenOut: USDC, amountIn: ETH, amountOutMinimum: 1990n * 10n ** 6n }, true],
    ['WETH->USDC min out 0 (unbounded)', { tokenIn: WETH, tokenOut: USDC, amountIn: ETH, amountOutMinimum: 0n }, false],
    ['USDC->WETH min out at -1%', { tokenIn: USDC, tokenOut: WETH, amountIn: 2000n * 10n ** 6n, amountOutMinimum: (ETH * 99n) / 100n }, false],
    ['another token', { tokenIn: WETH, tokenOut: '0x00000000000000000000000000000000000000cc', amountIn: ETH, amountOutMinimum: ETH }, false],
  ])('exactInputSingle: %s', (_name, params, ok) => {
    expect(checkTxBounds({ functionName: 'exactInputSingle', args: [params], bound: quoted(params.amountOutMinimum) }, ctx).ok).toBe(ok);
  });

  it.each([
    ['USDC->WETH max in +0.5%', { tokenIn: USDC, tokenOut: WETH, amountOut: ETH, amountInMaximum: 2010n * 10n ** 6n }, true],
    ['USDC->WETH max in +1%', { tokenIn: USDC, tokenOut: WETH, amountOut: ETH, amountInMaximum: 2020n * 10n ** 6n }, false],
  ])('exactOutputSingle: %s', (_name, params, ok) => {
    expect(checkTxBounds({ functionName: 'exactOutputSingle', args: [params], bound: quoted(params.amountInMaximum) }, ctx).ok).toBe(ok);
  });

  it('a USDC depeg is priced in: USDC at $0.98 makes ETH 2040.8 USDC', () => {
    const depeg = { ...ctx, quotePriceE8: 98n * 10n ** 6n };
    const fair = (ETH * 2000n * 10n ** 8n) / (98n * 10n ** 6n) / 10n ** 12n; // USDC units
    const ok = { tokenIn: WETH, tokenOut: USDC, amountIn: ETH, amountOutMinimum: (fair * 9950n) / 10_000n };
    expect(checkTxBounds({ functionName: 'exactInputSingle', args: [ok], bound: quoted(ok.amountOutMinimum) }, depeg).ok).toBe(true);
    expect(checkTxBounds({ functionName: 'exactInputSingle', args: [{ ...ok, amountOutMinimum: 1990n * 10n ** 6n }], bound: quoted(1990n * 10n ** 6n) }, depeg).ok).toBe(false);
  });
});

describe('fee replacement', () => {
  it.each([[8n, 9n], [1_000_000_000n, 1_125_000_000n], [1n, 2n], [3n, 4n]])('bumpFee(%s) = %s, at least +12.5% rounded up', (fee, bumped) => {
    expect(bumpFee(fee)).toBe(bumped);
    expect(bumpFee(fee) * 1000n).toBeGreaterThanOrEqual(fee * 1125n);
  });
});

describe('the journal', () => {
  it('keeps intents and signed transactions, and re-signing the same bytes moves the row to the new intent', () => {
    const j = openJournal(':memory:', () => 1_000);
    const action = { kind: 'adjustHedge' as const, sizeDeltaWei: -2n * ETH, reason: 'out of band' };
    const a = j.beginIntent({ chainId: 1, account: '0xABC', block: 10n, action });
    const tx = { intentId: a, chainId: 1, account: '0xAbc', label: 'perp.trade', nonce: 7, hash: '0x01' as const, raw: '0xf8' as const, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n };
    j.recordSigned(tx);
    expect(j.unsettledTxs(1, '0xabc').map((t) => [t.nonce, t.status])).toEqual([[7, 'signed']]);
    j.markTx('0x01', 'mined', { block: 11n, gasUsed: 21_000n });
    expect(j.unsettledTxs(1, '0xabc')).toEqual([]);
    expect(j.minedSince(1, '0xabc', 11n).map((t) => t.hash)).toEqual(['0x01']);
    j.markTx('0x01', 'reorged');
    j.finishIntent(a, 'reorged');
    const b = j.beginIntent({ chainId: 1, account: '0xabc', block: 12n, action });
    j.recordSigned({ ...tx, intentId: b });
    expect(j.txsOfIntent(b).map((t) => t.status)).toEqual(['signed']);
    expect(j.txsOfIntent(a)).toEqual([]);
    expect(JSON.parse(j.recentIntents(1)[0]?.action ?? '{}')).toEqual({ kind: 'adjustHedge', sizeDeltaWei: '-2000000000000000000', reason: 'out of band' });
    j.close();
  });
});

describe('alerts', () => {
  it('picks alert-worthy events only', () => {
    expect(alertText({ event: 'tx.reverted', stage: 'simulation', msg: 'x' }, 1000)).toBeNull();
    expect(alertText({ event: 'tx.reverted', stage: 'chain', msg: 'perp.trade reverted' }, 1000)).toMatch(/on chain/);
    expect(alertText({ event: 'plan', actions: [{ kind: 'adjustHedge', notionalUsd: '999', reason: 'r' }] }, 1000)).toBeNull();
    expect(alertText({ event: 'plan', actions: [{ kind: 'adjustHedge', notionalUsd: '1001', reason: 'r' }] }, 1000)).toMatch(/large action: adjustHedge ~\$1001/);
    expect(alertText({ event: 'safe_mode.entered', reason: 'oracle stale' }, 1000)).toMatch(/SAFE MODE: oracle stale/);
  });

  it('queues without blocking, bounded, and retries a failed delivery once', async () => {
    const posts: string[] = [];
    let fail = 1;
    const fetchImpl = (async (_url: string, init: { body: string }) => {
      posts.push(init.body);
      return { ok: fail-- <= 0, status: 500 } as Response;
    }) as unknown as typeof fetch;
    const alerter = createAlerter({ url: 'http://hook', largeActionUsd: 1, fetchImpl, maxQueue: 2 });
    for (let i = 0; i < 5; i++) alerter.onLine(JSON.stringify({ event: 'tx.replaced', msg: `r${i}` }));
    alerter.onLine('{"event":"tick","msg":"not an alert"}');
    await alerter.flush();
    expect(alerter.sent).toBe(3); // the first was retried; 2 queued while it was in flight
    expect(alerter.dropped).toBe(2);
    expect(JSON.parse(posts[0] ?? '{}')).toEqual({ text: 'r0', content: 'r0' });
  });
});

describe('keystores', () => {
  const key = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const;
  it('round-trips and refuses a wrong password without echoing it', () => {
    const json = encryptKeystore(key, 'pw-right', { light: true });
    expect(decryptKeystore(json, 'pw-right')).toBe(key);
    expect(JSON.parse(json).address).toBe(privateKeyToAddress(key).slice(2).toLowerCase());
    try {
      decryptKeystore(json, 'pw-wrong', 'KEYSTORE_PATH=/k.json');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(KeystoreError);
      expect((e as Error).message).toBe('KEYSTORE_PATH=/k.json: wrong password (the keystore MAC does not match)');
    }
  });

  it('reads the pbkdf2 test vector of the Web3 Secret Storage definition', () => {
    const vector = JSON.stringify({
      crypto: {
        cipher: 'aes-128-ctr',
        cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
        ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
        kdf: 'pbkdf2',
        kdfparams: { c: 262144, dklen: 32, prf: 'hmac-sha256', salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd' },
        mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
      },
      id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
      version: 3,
    });
    expect(decryptKeystore(vector, 'testpassword')).toBe('0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d');
  });
});

describe('dry-run on an RPC without eth_simulateV1', () => {
  it('falls back to one estimate per transaction and says so once', async () => {
    const { createExecutor } = await import('../../src/chain/executor.js');
    const { createRecordingLogger } = await import('../../src/monitor/logger.js');
    const { erc20Abi } = await import('viem');
    const { logger, lines } = createRecordingLogger();
    let estimates = 0;
    const publicClient = {
      simulateCalls: async () => {
        throw new Error('the method eth_simulateV1 does not exist/is not available');
      },
      estimateGas: async () => {
        estimates++;
        return 46_000n;
      },
    };
    const walletClient = { account: { address: '0x0000000000000000000000000000000000000001' } };
    const executor = createExecutor({
      clients: { publicClient, walletClient } as never,
      logger,
      allowList: [{ target: USDC, functions: ['approve'] }],
      dryRun: true,
      sender: null,
    });
    const tx = { label: 'approve', address: USDC as `0x${string}`, abi: erc20Abi, functionName: 'approve', args: [WETH, 1n], bound: { kind: 'none', why: 'approve' } as const };
    const run = { bounds: ctx, block: 1n, log: {} };
    expect((await executor.run([tx], run)).map((o) => o.status)).toEqual(['simulated']);
    expect((await executor.run([tx], { ...run, block: 2n })).map((o) => o.status)).toEqual(['simulated']);
    expect(estimates).toBe(2);
    expect(lines().filter((l) => l['event'] === 'dry_run.unstacked').length).toBe(1);
  });
});

describe('journal migration and the daily notional', () => {
  it('adds the columns an older journal lacks, and counts every mined or pending transaction whatever its intent label', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const Database = (await import('better-sqlite3')).default;
    const path = join(mkdtempSync(join(tmpdir(), 'journal-old-')), 'journal.sqlite');
    const old = new Database(path);
    old.exec(`CREATE TABLE intents (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at_ms INTEGER NOT NULL, chain_id INTEGER NOT NULL,
      account TEXT NOT NULL, block TEXT, kind TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL,
      detail TEXT, updated_at_ms INTEGER NOT NULL)`);
    old.close();
    const j = openJournal(path);
    const hedge = { kind: 'adjustHedge' as const, sizeDeltaWei: -ETH, reason: 'r' };
    let nonce = 0;
    const intent = (t: bigint, usd: bigint, tx: 'mined' | 'broadcast' | 'reverted' | 'abandoned', label: 'done' | 'failed' | 'abandoned' | null) => {
      const id = j.beginIntent({ chainId: 1, account: '0xa', block: 1n, action: hedge, notionalUsdE8: usd * 10n ** 8n, blockTimeSec: t });
      const hash = `0x${(++nonce).toString(16).padStart(64, '0')}` as const;
      j.recordSigned({ intentId: id, chainId: 1, account: '0xa', label: 'perp.trade', nonce, hash, raw: '0x02', maxFeePerGas: 1n, maxPriorityFeePerGas: 1n });
      j.markTx(hash, tx);
      if (label) j.finishIntent(id, label);
    };
    intent(86_400n * 10n - 1n, 500n, 'mined', 'done'); // yesterday
    intent(86_400n * 10n + 5n, 2_000n, 'mined', 'done');
    intent(86_400n * 10n + 9n, 3_000n, 'mined', 'abandoned'); // mined while the keeper was down: counts
    intent(86_400n * 10n + 9n, 4_000n, 'broadcast', null); // still pending: counts
    intent(86_400n * 10n + 9n, 7_000n, 'reverted', 'failed');
    intent(86_400n * 10n + 9n, 9_000n, 'abandoned', 'abandoned');
    expect(j.spentSince(1, '0xA', 86_400 * 10).hedgeNotionalUsdE8).toBe(9_000n * 10n ** 8n);
    const topUp = j.beginIntent({ chainId: 1, account: '0xa', block: 1n, action: { kind: 'topUp', amountUnits: 250_000_000n, reason: 'r' }, blockTimeSec: 86_400n * 10n + 20n });
    j.recordSigned({ intentId: topUp, chainId: 1, account: '0xa', label: 'usdc.approve', nonce: 99, hash: `0x${'ab'.repeat(32)}`, raw: '0x02', maxFeePerGas: 1n, maxPriorityFeePerGas: 1n });
    j.markTx(`0x${'ab'.repeat(32)}`, 'mined');
    expect(j.spentSince(1, '0xa', 86_400 * 10)).toEqual({
      hedgeNotionalUsdE8: 9_000n * 10n ** 8n, topUpUnits: 250_000_000n, hedgeNotionalByAssetUsdE8: {}, topUpByVenueUnits: {},
    });
    j.close();
  });

  it('counts portfolio actions per asset and per venue, a collateral move against the venue it feeds', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const j = openJournal(join(mkdtempSync(join(tmpdir(), 'journal-pf-')), 'journal.sqlite'));
    let nonce = 0;
    const sent = (action: Parameters<typeof j.beginIntent>[0]['action'], usd: bigint, status: 'mined' | 'broadcast' | 'abandoned') => {
      const id = j.beginIntent({ chainId: 1, account: '0xa', block: 1n, action, notionalUsdE8: usd, blockTimeSec: 100n });
      const hash = `0x${(++nonce).toString(16).padStart(64, '0')}` as const;
      j.recordSigned({ intentId: id, chainId: 1, account: '0xa', label: 'x', nonce, hash, raw: '0x02', maxFeePerGas: 1n, maxPriorityFeePerGas: 1n });
      j.markTx(hash, status);
    };
    const hedge = (asset: string, venue: string) => ({ kind: 'adjustHedge' as const, venue, instrument: `${venue}:${asset}`, asset, sizeDeltaUnits: -1n, reason: 'r' });
    sent(hedge('ETH', 'perp'), 100n, 'mined');
    sent(hedge('ETH', 'aave'), 50n, 'broadcast');
    sent(hedge('BTC', 'aave'), 70n, 'mined');
    sent(hedge('BTC', 'aave'), 1_000n, 'abandoned'); // never reached the chain: not spent
    sent({ kind: 'topUp', venue: 'aave', asset: null, amountUnits: 5n, reason: 'r' }, 0n, 'mined');
    sent({ kind: 'moveCollateral', from: 'perp', fromAsset: 'ETH', to: 'aave', toAsset: null, amountUnits: 7n, reason: 'r' }, 0n, 'mined');
    expect(j.spentSince(1, '0xa', 0)).toEqual({
      hedgeNotionalUsdE8: 220n, topUpUnits: 5n, hedgeNotionalByAssetUsdE8: { ETH: 150n, BTC: 70n }, topUpByVenueUnits: { aave: 12n },
    });
    j.close();
  });
});

describe('reorg re-checks', () => {
  it('happen at 0, 1, 2, 4, 8 ... confirmations, not on every tick', async () => {
    const { dueForReorgCheck } = await import('../../src/journal/reconcile.js');
    const due = Array.from({ length: 66 }, (_, i) => BigInt(i - 1)).filter(dueForReorgCheck);
    expect(due).toEqual([-1n, 0n, 1n, 2n, 4n, 8n, 16n, 32n, 64n]);
  });
});
