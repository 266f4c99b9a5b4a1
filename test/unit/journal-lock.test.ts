import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPriceRecord } from '../../src/backtest/price-record.js';
import { openJournal } from '../../src/journal/journal.js';
import { JournalLockedError } from '../../src/journal/lock.js';

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

/** A second process opening the journal (test/fixtures/journal-holder.ts). */
function holder(path: string): { child: ChildProcess; locked: Promise<number>; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/journal-holder.ts', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((r) => child.once('exit', (code) => setImmediate(() => r({ code, stderr }))));
  const locked = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /locked (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exit.then(({ code, stderr: e }) => reject(new Error(`holder exited ${code}: ${e}`)));
  });
  locked.catch(() => undefined);
  return { child, locked, exit };
}

const mode = (p: string) => statSync(p).mode & 0o777;
const journalIn = (prefix: string) => join(mkdtempSync(join(tmpdir(), prefix)), 'state', 'journal.sqlite');

describe('one keeper per journal', () => {
  it('a second process refuses and names the holder; after kill -9 of the holder the next start succeeds', async () => {
    const path = journalIn('lock-');
    const first = holder(path);
    const pid = await first.locked;
    expect(pid).toBe(first.child.pid);

    const second = holder(path); // another process, as a second keeper would be
    const refused = await second.exit;
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`JOURNAL_PATH=${path}`);
    expect(refused.stderr).toContain(`pid ${pid} on host ${hostname()}, since 20`);

    let inProcess: unknown;
    try {
      openJournal(path);
    } catch (err) {
      inProcess = err;
    }
    expect(inProcess).toBeInstanceOf(JournalLockedError);
    expect((inProcess as JournalLockedError).holder).toMatchObject({ pid, host: hostname() });

    // A reader (keeper history) is not a keeper: it opens beside the holder.
    const reader = openJournal(path, Date.now, { lock: false });
    expect(reader.recentIntents(5)).toEqual([]);
    reader.close();

    first.child.kill('SIGKILL'); // nothing runs on the way out: the kernel drops the lock
    await first.exit;
    const next = openJournal(path);
    next.close();
    const again = holder(path); // and the lock is free again after a clean close
    expect(await again.locked).toBe(again.child.pid);
  });

  it('two opens in one process: the second refuses, a close releases', () => {
    const path = journalIn('lock-same-');
    const a = openJournal(path);
    expect(() => openJournal(path)).toThrow(/another keeper holds this journal \(pid \d+ on host/);
    a.close();
    openJournal(path).close();
    expect(() => openJournal(':memory:').close()).not.toThrow();
  });
});

describe('journal and data files are the owner\'s only', () => {
  it('journal, WAL, shared memory and lock files 0600 in a new 0700 directory; an old 0644 journal is tightened', () => {
    const path = journalIn('modes-');
    const j = openJournal(path);
    j.beginIntent({ chainId: 1, account: '0xa', block: 1n, action: { kind: 'adjustHedge', sizeDeltaWei: -1n, reason: 'r' } as never });
    for (const f of [path, `${path}-wal`, `${path}-shm`, `${path}.lock`]) expect([f, mode(f)]).toEqual([f, 0o600]);
    expect(mode(join(path, '..'))).toBe(0o700);
    j.close();

    chmodSync(path, 0o644);
    openJournal(path).close();
    expect(mode(path)).toBe(0o600);
  });

  it('DATA_DIR/prices.jsonl 0600 in a 0700 directory, also when an older run left it 0644', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'prices-')), 'data');
    const record = createPriceRecord({ dataDir });
    await record.append({ blockNumber: 1n, timeSec: 1n, priceE8: 2_000n * 10n ** 8n });
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(record.path)).toBe(0o600);
    writeFileSync(record.path, '', { mode: 0o644 });
    chmodSync(record.path, 0o644);
    await createPriceRecord({ dataDir }).append({ blockNumber: 2n, timeSec: 2n, priceE8: 2_000n * 10n ** 8n });
    expect(mode(record.path)).toBe(0o600);
  });
});
