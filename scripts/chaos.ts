/**
 * `npm run chaos`: run the fault-injection suite (test/chaos) on the devnet and print what was
 * injected, what the keeper survived, and the funds lost. A fault counts as survived only if
 * its test passed all its on-chain assertions (the test records itself after them).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface FaultResult {
  fault: string;
  survived: boolean;
  lostUsd: number;
  note?: string;
}

interface VitestJson {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: Array<{ assertionResults: Array<{ title: string; status: string }> }>;
}

const dir = mkdtempSync(join(tmpdir(), 'keeper-chaos-'));
const resultsFile = join(dir, 'faults.jsonl');
const reportFile = join(dir, 'vitest.json');
const run = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', 'test/chaos', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`],
  // The kill -9 loop repeats 30 times here (a few times under plain `npm test`).
  { stdio: 'inherit', env: { ...process.env, CHAOS_RESULTS: resultsFile, CHAOS_KILLS: process.env['CHAOS_KILLS'] ?? '30' } },
);

const recorded: FaultResult[] = existsSync(resultsFile)
  ? readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FaultResult)
  : [];
const report = existsSync(reportFile) ? (JSON.parse(readFileSync(reportFile, 'utf8')) as VitestJson) : null;
const failedTitles = report?.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => a.title)) ?? [];
const rows: FaultResult[] = [...recorded, ...failedTitles.map((t) => ({ fault: t, survived: false, lostUsd: Number.NaN, note: 'test failed' }))];

const width = Math.max(...rows.map((r) => r.fault.length), 5);
const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(width)}  ${b.padEnd(8)}  ${c.padStart(10)}  ${d}`;
console.log('');
console.log(line('fault', 'survived', 'lost USD', 'note'));
console.log('-'.repeat(width + 40));
for (const r of rows) console.log(line(r.fault, r.survived ? 'yes' : 'NO', Number.isNaN(r.lostUsd) ? '?' : r.lostUsd.toFixed(2), r.note ?? ''));
const survived = rows.filter((r) => r.survived).length;
const lost = rows.reduce((s, r) => s + (Number.isNaN(r.lostUsd) ? 0 : r.lostUsd), 0);
console.log('');
console.log(`faults injected: ${rows.length}, survived: ${survived}, lost funds: $${lost.toFixed(2)}`);
process.exit(run.status === 0 && survived === rows.length && rows.length > 0 ? 0 : 1);
