import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON lines (non-JSON lines dropped). */
  lines: Array<Record<string, unknown>>;
}

const emptyEnvFile = (() => {
  let path: string | undefined;
  return () => {
    if (!path) {
      path = join(mkdtempSync(join(tmpdir(), 'keeper-cli-')), 'empty.env');
      writeFileSync(path, '');
    }
    return path;
  };
})();

export function parseJsonLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').flatMap((l) => {
    try {
      const v = JSON.parse(l) as unknown;
      return v && typeof v === 'object' ? [v as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/**
 * Start the real CLI (`node --import tsx src/cli.ts ...`) with only the given variables (plus
 * PATH/HOME): the developer's own environment and .env never leak into the test.
 */
export function startCli(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--env-file', emptyEnvFile(), ...args], {
    // KEEPER_TEST_RUN_ID: the run's marker, so the orphan check counts anvils the CLI starts too.
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', KEEPER_TEST_RUN_ID: process.env['KEEPER_TEST_RUN_ID'] ?? '', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) => {
    child.once('exit', (code, signal) => {
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, stdout, stderr, lines: parseJsonLines(stdout) }));
    });
  });
  return { child, done };
}

export async function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return startCli(args, env).done;
}

/** Resolve once a stdout JSON line matches. */
export function waitForLine(child: ChildProcess, match: (line: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('timed out waiting for a log line')), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of parseJsonLines(buf)) {
        if (match(line)) {
          clearTimeout(timer);
          resolve(line);
          return;
        }
      }
    });
  });
}
