import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encryptKeystore } from '../../src/chain/keystore.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { E8, abs, addressesFileFor, keeperOn, setMarketPrice } from '../helpers/keeper.js';
import { runCli, startCli, waitForLine } from '../helpers/cli.js';
import { recordFault } from './record.js';
import { duplicateUsd, nonceOf, perpAccount, tradesSince } from './helpers.js';

function cliEnv(d: Devnet, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    RPC_URLS: d.rpcUrl,
    PRIVATE_KEY: d.key('perpDemo'),
    ADDRESSES_FILE: addressesFileFor(d),
    TICK_MODE: 'interval',
    TICK_INTERVAL_MS: '200',
    COOLDOWN_SEC: '0',
    DATA_DIR: dataDir,
    ...extra,
  };
}

describe('chaos: restarts, reorgs and bad starts', () => {
  const devnet = useDevnet();

  it('killed after broadcast and before the receipt, restarted: exactly one hedge on chain', async () => {
    const d = devnet();
    const dataDir = mkdtempSync(join(tmpdir(), 'keeper-kill-'));
    await setMarketPrice(d, 1_900n * E8);
    const from = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
    const sizeBefore = (await perpAccount(d)).sizeWei;
    await d.test.setAutomine(false); // the hedge will sit in the mempool
    const first = startCli(['run', '--adopt-history'], cliEnv(d, dataDir));
    await waitForLine(first.child, (l) => l['event'] === 'tx.sent' && l['label'] === 'perp.trade');
    first.child.kill('SIGKILL');
    await first.done;
    expect((await perpAccount(d)).sizeWei).toBe(sizeBefore); // not mined yet
    // Still no blocks: a keeper without memory would now see the old state and hedge again
    // (at the next pending nonce). This one must find its journaled hedge and wait for it.
    const restarted = startCli(['run', '--max-ticks', '3'], cliEnv(d, dataDir));
    await waitForLine(restarted.child, (l) => l['event'] === 'journal.resumed');
    await d.test.setIntervalMining({ interval: 1 });
    const second = await restarted.done;
    await d.test.setIntervalMining({ interval: 0 });
    await d.test.setAutomine(true);
    // On a loaded machine the three ticks can end before the interval block that mines the hedge:
    // one more block settles whatever is still in the mempool, so a second hedge would show too.
    await d.test.mine({ blocks: 1 });
    expect(second.code).toBe(0);
    const events = second.lines.map((l) => `${String(l['event'])}`);
    expect(events.some((e) => e === 'journal.resumed' || e === 'journal.settled')).toBe(true);
    expect(second.lines.filter((l) => l['event'] === 'tx.sent')).toEqual([]);
    const trades = await tradesSince(d, from);
    expect(trades.length).toBe(1);
    expect((await perpAccount(d)).sizeWei).toBeLessThan(sizeBefore);
    recordFault({ fault: 'process killed after broadcast, before the receipt; restarted', survived: true, lostUsd: duplicateUsd(trades, 1) });
  });

  it('the daily notional cap survives a restart', async () => {
    const d = devnet();
    const journal = join(mkdtempSync(join(tmpdir(), 'keeper-cap-')), 'journal.sqlite');
    const env = { JOURNAL_PATH: journal, MAX_NOTIONAL_PER_DAY_USD: '12000' };
    const first = await keeperOn(d, env);
    await setMarketPrice(d, 1_900n * E8);
    const r1 = await first.keeper.tickOnce(); // ~4.5 ETH at $1900: ~$8.6k of today's $12k
    expect(r1.results.map((x) => `${x.outcome}:${x.reason ?? ""}`)).toEqual(["done:"]);
    first.keeper.close();
    const restarted = await keeperOn(d, env); // a new process: same journal, same day
    await setMarketPrice(d, 1_800n * E8);
    const nonce = await nonceOf(d);
    const r2 = await restarted.keeper.tickOnce();
    expect(r2.plan.actions.map((a) => a.kind)).toEqual(['adjustHedge']);
    expect(r2.results[0]?.outcome).toBe('blocked');
    expect(r2.results[0]?.reason).toMatch(/already traded today exceeds the daily cap \$12000/);
    expect(await nonceOf(d)).toBe(nonce);
    recordFault({ fault: 'restart resets the daily notional cap', survived: true, lostUsd: 0 });
  });

  it('a reorg drops a mined hedge: the keeper notices and ends inside the band', async () => {
    const d = devnet();
    const { keeper, lines } = await keeperOn(d);
    await setMarketPrice(d, 1_900n * E8);
    const sizeBefore = (await perpAccount(d)).sizeWei;
    const hedged = await keeper.tickOnce();
    expect(hedged.results.map((x) => x.outcome)).toEqual(['done']);
    // Drop the block holding the hedge (and its transactions) from the chain.
    await d.test.request({ method: 'anvil_rollback' as 'evm_mine', params: [1] as unknown as undefined });
    expect((await perpAccount(d)).sizeWei).toBe(sizeBefore);
    // Until the chain grows past the dropped block, a rollback looks like a lagging node: the
    // keeper holds. The new canonical block at that height (without the hedge) proves the reorg.
    const held = await keeper.tickOnce();
    expect(held.results.every((r) => r.outcome === 'held')).toBe(true);
    await d.test.mine({ blocks: 1 });
    const after = await keeper.tickOnce();
    expect(lines().some((l) => l['event'] === 'chain.reorg')).toBe(true);
    const final = after.results.length > 0 ? await keeper.tickOnce() : after;
    expect(abs(final.assessment.deviationWei)).toBeLessThanOrEqual(final.assessment.bandWei);
    expect((await perpAccount(d)).sizeWei).toBeLessThan(sizeBefore);
    recordFault({ fault: 'reorg drops a mined hedge (anvil_rollback)', survived: true, lostUsd: 0 });
  });

  it('malformed configuration, keystore with the wrong password, unreachable RPC: clear error, nothing sent', async () => {
    const d = devnet();
    const dataDir = mkdtempSync(join(tmpdir(), 'keeper-bad-'));
    const nonce = await nonceOf(d);
    await setMarketPrice(d, 1_900n * E8); // there is something to do, were the keeper to start

    const malformed = await runCli(['run'], cliEnv(d, dataDir, { DELTA_BAND_ETH: '1e3', COOLDOWN_SEC: 'soon' }));
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('DELTA_BAND_ETH=1e3');
    expect(malformed.stderr).toContain('COOLDOWN_SEC=soon');

    const keystorePath = join(dataDir, 'key.json');
    writeFileSync(keystorePath, encryptKeystore(d.key('perpDemo'), 'right password', { light: true }));
    const { PRIVATE_KEY: _key, ...noKey } = cliEnv(d, dataDir);
    const wrong = await runCli(['run'], { ...noKey, KEYSTORE_PATH: keystorePath, KEYSTORE_PASSWORD: 'wrong password' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/KEYSTORE_PATH=.*key\.json: wrong password/);
    expect(wrong.stderr + wrong.stdout).not.toContain('wrong password\n'.slice(0, 0) + 'right password');

    const unreachable = await runCli(['run'], cliEnv(d, dataDir, { RPC_URLS: 'http://127.0.0.1:9' }));
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/RPC_URLS: cannot reach http:\/\/127\.0\.0\.1:9/);

    expect(await nonceOf(d)).toBe(nonce);
    recordFault({ fault: 'malformed config / wrong keystore password / unreachable RPC', survived: true, lostUsd: 0 });
  });

  it('the private key and keystore password never reach logs, errors or the journal', async () => {
    const d = devnet();
    const dataDir = mkdtempSync(join(tmpdir(), 'keeper-secret-'));
    const keyHex = d.key('perpDemo').slice(2).toLowerCase();
    await setMarketPrice(d, 1_900n * E8);
    const run = await runCli(['run', '--max-ticks', '2', '--adopt-history'], cliEnv(d, dataDir, { LOG_LEVEL: 'trace' }));
    expect(run.code).toBe(0);
    expect(run.lines.some((l) => l['event'] === 'tx.mined')).toBe(true);
    const keystorePath = join(dataDir, 'key.json');
    writeFileSync(keystorePath, encryptKeystore(d.key('perpDemo'), 'hunter2-secret', { light: true }));
    const { PRIVATE_KEY: _key, ...noKey } = cliEnv(d, dataDir, { LOG_LEVEL: 'trace' });
    const viaKeystore = await runCli(['run', '--max-ticks', '1'], { ...noKey, KEYSTORE_PATH: keystorePath, KEYSTORE_PASSWORD: 'hunter2-secret' });
    expect(viaKeystore.code).toBe(0);
    const badKey = await runCli(['run'], cliEnv(d, dataDir, { PRIVATE_KEY: `0x${keyHex.slice(0, 60)}` }));
    expect(badKey.code).toBe(2);
    const journal = readFileSync(join(dataDir, 'journal.sqlite')).toString('latin1').toLowerCase() +
      readFileSync(join(dataDir, 'journal.sqlite'), 'hex');
    for (const text of [run.stdout, run.stderr, viaKeystore.stdout, viaKeystore.stderr, badKey.stdout, badKey.stderr, journal]) {
      expect(text.toLowerCase()).not.toContain(keyHex);
      expect(text).not.toContain('hunter2-secret');
    }
    expect(badKey.stderr).not.toContain(keyHex.slice(0, 60));
    recordFault({ fault: 'secrets grep (trace logs, errors, journal)', survived: true, lostUsd: 0 });
  });
});
