import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decryptKeystore } from '../../src/chain/keystore.js';
import { useDevnet } from '../helpers/devnet.js';
import { addressesFileFor } from '../helpers/keeper.js';
import { runCli } from '../helpers/cli.js';

/**
 * `keeper keystore new|import` as a user runs them (the real CLI process), and the keystore
 * they write read back by the keeper's own configuration path (KEYSTORE_PATH +
 * KEYSTORE_PASSWORD) on a devnet run.
 */

const KNOWN_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const KNOWN_ADDRESS = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'; // anvil's account 1
const PASSWORD = 'correct horse battery staple';

function scratch(): { dir: string; passwordFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keeper-keystore-'));
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  return { dir, passwordFile };
}

const modeOf = (path: string) => statSync(path).mode & 0o777;
const addressIn = (stdout: string) => /address (0x[0-9a-fA-F]{40})/.exec(stdout)?.[1];

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The CLI with a given stdin, in a new session (no controlling terminal: /dev/tty cannot be
 * opened, as under a service manager or CI).
 */
function cliWithStdin(args: string[], stdin: string): Promise<Spawned> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** util-linux `script` gives the CLI a pseudo-terminal, so the no-echo prompts run as a person sees them. */
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** Run the CLI on a pseudo-terminal and answer each prompt when it appears (no sleeps). */
function cliOnTerminal(args: string[], answers: Array<[RegExp, string]>): Promise<Spawned> {
  const command = [process.execPath, '--import', 'tsx', 'src/cli.ts', ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let answered = 0;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    const next = answers[answered];
    if (next && next[0].test(stdout)) {
      answered++;
      child.stdin.write(`${next[1]}\r`);
    }
  });
  return new Promise((resolve) =>
    child.once('close', (code) => {
      child.stdin.end();
      resolve({ code, stdout, stderr: '' });
    }),
  );
}

describe('keeper keystore new', () => {
  const devnet = useDevnet();

  it('writes a 0600 scrypt v3 keystore that the keeper runs with (KEYSTORE_PATH + KEYSTORE_PASSWORD)', async () => {
    const { dir, passwordFile } = scratch();
    const out = join(dir, 'keys', 'keeper.json');
    const made = await runCli(['keystore', 'new', '--out', out, '--password-file', passwordFile], {});
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const address = addressIn(made.stdout);
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(modeOf(out)).toBe(0o600);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { version: number; address: string; crypto: { kdf: string; kdfparams: { n: number; r: number; p: number } } };
    expect(json.version).toBe(3);
    expect(json.crypto.kdf).toBe('scrypt');
    expect(json.crypto.kdfparams).toMatchObject({ n: 2 ** 18, r: 8, p: 1 });
    expect(`0x${json.address}`).toBe(address?.toLowerCase());
    // Nothing secret on the screen.
    expect(made.stdout).not.toContain(PASSWORD);

    const d = devnet();
    const run = await runCli(['run', '--max-ticks', '1'], {
      RPC_URLS: d.rpcUrl,
      KEYSTORE_PATH: out,
      KEYSTORE_PASSWORD: PASSWORD,
      ADDRESSES_FILE: addressesFileFor(d),
      TICK_MODE: 'interval',
      TICK_INTERVAL_MS: '200',
      DATA_DIR: join(dir, 'data'),
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const tick = run.lines.find((l) => l['event'] === 'tick');
    expect(tick?.['account']).toBe(address);
    expect(run.stdout).not.toContain(PASSWORD);
  });

  it('never replaces an existing file without --force; with it, the new file is 0600 again', async () => {
    const { dir, passwordFile } = scratch();
    const out = join(dir, 'keystore.json');
    writeFileSync(out, 'the only copy of someone else\'s key');
    chmodSync(out, 0o644);
    const refused = await runCli(['keystore', 'new', '--out', out, '--password-file', passwordFile], {});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${out} exists: choose another --out, or --force to replace it`);
    expect(readFileSync(out, 'utf8')).toBe('the only copy of someone else\'s key');
    const forced = await runCli(['keystore', 'new', '--out', out, '--password-file', passwordFile, '--force'], {});
    expect(forced.code).toBe(0);
    expect(modeOf(out)).toBe(0o600);
    expect(decryptKeystore(readFileSync(out, 'utf8'), PASSWORD)).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('without a terminal and without --password-file, says which option to use and writes nothing', async () => {
    const { dir } = scratch();
    const out = join(dir, 'keystore.json');
    const run = await cliWithStdin(['keystore', 'new', '--out', out], '');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no terminal to ask for the password on: pass --password-file <path>');
    expect(() => statSync(out)).toThrow();
  });
});

describe('keeper keystore import', () => {
  it('a key from --key-file: the keystore holds that key and prints its address', async () => {
    const { dir, passwordFile } = scratch();
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, `${KNOWN_KEY.slice(2)}\n`, { mode: 0o600 });
    const out = join(dir, 'imported.json');
    const run = await runCli(['keystore', 'import', '--key-file', keyFile, '--out', out, '--password-file', passwordFile], {});
    expect(run.code).toBe(0);
    expect(addressIn(run.stdout)).toBe(KNOWN_ADDRESS);
    expect(decryptKeystore(readFileSync(out, 'utf8'), PASSWORD)).toBe(KNOWN_KEY);
    expect(modeOf(out)).toBe(0o600);
    expect(run.stdout).not.toContain(KNOWN_KEY.slice(2));
  });

  it('a key piped on stdin', async () => {
    const { dir, passwordFile } = scratch();
    const out = join(dir, 'imported.json');
    const run = await cliWithStdin(['keystore', 'import', '--out', out, '--password-file', passwordFile], `${KNOWN_KEY}\n`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(addressIn(run.stdout)).toBe(KNOWN_ADDRESS);
    expect(decryptKeystore(readFileSync(out, 'utf8'), PASSWORD)).toBe(KNOWN_KEY);
  });

  it('a malformed key is refused without repeating it', async () => {
    const { dir, passwordFile } = scratch();
    const out = join(dir, 'imported.json');
    const bad = `${KNOWN_KEY.slice(0, 40)}zz`;
    const run = await cliWithStdin(['keystore', 'import', '--out', out, '--password-file', passwordFile], bad);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('stdin: expected a private key of 64 hex digits (0x optional)');
    expect(run.stderr).not.toContain(bad.slice(2, 30));
    expect(() => statSync(out)).toThrow();
  });

  it('nothing on stdin and no terminal: says how to give the key', async () => {
    const { dir, passwordFile } = scratch();
    const run = await cliWithStdin(['keystore', 'import', '--out', join(dir, 'k.json'), '--password-file', passwordFile], '');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('stdin: no key given: pipe it in, pass --key-file <path>, or run on a terminal to type it');
  });

  it.skipIf(!hasScript)('on a terminal: key and password typed without echo, the password asked twice', async () => {
    const { dir } = scratch();
    const out = join(dir, 'typed.json');
    const run = await cliOnTerminal(['keystore', 'import', '--out', out], [
      [/Private key \(hex, not shown\): /, KNOWN_KEY],
      [/Keystore password: /, PASSWORD],
      [/Repeat the password: /, PASSWORD],
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`address ${KNOWN_ADDRESS}`);
    // The terminal never showed what was typed.
    expect(run.stdout).not.toContain(KNOWN_KEY.slice(2));
    expect(run.stdout).not.toContain(PASSWORD);
    expect(decryptKeystore(readFileSync(out, 'utf8'), PASSWORD)).toBe(KNOWN_KEY);

    const mismatch = await cliOnTerminal(['keystore', 'new', '--out', join(dir, 'other.json')], [
      [/Keystore password: /, PASSWORD],
      [/Repeat the password: /, `${PASSWORD}!`],
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stdout).toContain('the two passwords differ: nothing was written');
    expect(() => statSync(join(dir, 'other.json'))).toThrow();
  });
});
