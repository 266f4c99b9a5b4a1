import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { ReadStream } from 'node:tty';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { KEYSTORE_SCRYPT_N, encryptKeystore } from '../chain/keystore.js';

/**
 * `keeper keystore new` and `keeper keystore import`: an encrypted v3 keystore for KEYSTORE_PATH,
 * so nobody has to write a script around a private key. Secrets come from a terminal without
 * echo, or from files (and the key from stdin); they are never printed, never in an error, and
 * the file is written 0600 through a temporary file, so no reader ever sees it half-written.
 */

export class KeystoreCommandError extends Error {
  override readonly name = 'KeystoreCommandError';
}

export interface KeystoreCommandOptions {
  /** Where the keystore goes. */
  out: string;
  /** Read the password from this file (its first line) instead of asking. */
  passwordFile?: string;
  /** Import only: the key from this file, or `-` for stdin. Omitted: ask on the terminal, or read a piped stdin. */
  keyFile?: string;
  /** Replace an existing file at `out`. */
  force?: boolean;
}

/** Where the command talks to the user; tests and the CLI pass the process's. */
export interface KeystoreIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; fd?: number };
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

const processIo: KeystoreIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

/** A readable terminal: stdin when it is one, else the controlling terminal (`ssh`-style), else null. */
function openTerminal(io: KeystoreIo): { input: NodeJS.ReadStream; close(): void } | null {
  if (io.stdin.isTTY) return { input: io.stdin as NodeJS.ReadStream, close: () => undefined };
  try {
    const fd = openSync('/dev/tty', 'r');
    const input = new ReadStream(fd);
    return { input, close: () => input.destroy() };
  } catch {
    return null;
  }
}

/**
 * Lines from a terminal with echo off (raw mode). Characters typed (or pasted) past a line end
 * are kept for the next question. Ctrl-C and Ctrl-D abort.
 */
function hiddenLines(input: NodeJS.ReadStream, io: KeystoreIo): { ask(prompt: string): Promise<string> } {
  let pending = '';
  return {
    ask(prompt) {
      // Echo goes off before the prompt shows: whatever is typed once it is visible stays hidden.
      const wasRaw = input.isRaw;
      input.setRawMode(true);
      io.stderr.write(prompt);
      return new Promise((resolveLine, reject) => {
        const finish = (err: Error | null, line = '') => {
          input.off('data', onData);
          input.setRawMode(wasRaw);
          input.pause();
          io.stderr.write('\n');
          if (err) reject(err);
          else resolveLine(line);
        };
        const scan = (): boolean => {
          let value = '';
          for (let i = 0; i < pending.length; i++) {
            const ch = pending[i] as string;
            if (ch === '\r' || ch === '\n') {
              // A CR LF pair is one line end.
              pending = pending.slice(ch === '\r' && pending[i + 1] === '\n' ? i + 2 : i + 1);
              finish(null, value);
              return true;
            }
            if (ch === '\u0003' || ch === '\u0004') {
              pending = '';
              finish(new KeystoreCommandError('aborted: nothing was written'));
              return true;
            }
            value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
          }
          return false;
        };
        const onData = (chunk: Buffer) => {
          pending += chunk.toString('utf8');
          scan();
        };
        input.setRawMode(true);
        if (scan()) return;
        input.on('data', onData);
        input.resume();
      });
    },
  };
}

/** The first line of a secret file: a trailing newline is the editor's, not the secret's. */
function readSecretFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeystoreCommandError(`${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return text.split(/\r?\n/)[0] ?? '';
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function askPassword(opts: KeystoreCommandOptions, io: KeystoreIo): Promise<string> {
  let password: string;
  if (opts.passwordFile !== undefined) {
    password = readSecretFile(opts.passwordFile, '--password-file');
  } else {
    const tty = openTerminal(io);
    if (!tty) throw new KeystoreCommandError('no terminal to ask for the password on: pass --password-file <path>');
    try {
      const lines = hiddenLines(tty.input, io);
      password = await lines.ask('Keystore password: ');
      const again = await lines.ask('Repeat the password: ');
      if (again !== password) throw new KeystoreCommandError('the two passwords differ: nothing was written');
    } finally {
      tty.close();
    }
  }
  if (password.length === 0) throw new KeystoreCommandError('the password is empty: a keystore needs one');
  return password;
}

/** 32 bytes of hex, 0x optional; the error never repeats what was given. */
export function parsePrivateKey(text: string, source: string): Hex {
  const hex = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new KeystoreCommandError(`${source}: expected a private key of 64 hex digits (0x optional)`);
  const key = `0x${hex.toLowerCase()}` as Hex;
  try {
    privateKeyToAddress(key);
  } catch {
    throw new KeystoreCommandError(`${source}: not a valid secp256k1 private key`);
  }
  return key;
}

async function askPrivateKey(opts: KeystoreCommandOptions, io: KeystoreIo): Promise<Hex> {
  if (opts.keyFile === '-' || (opts.keyFile === undefined && !io.stdin.isTTY)) {
    const text = await readStdin(io.stdin);
    if (text.trim() === '') throw new KeystoreCommandError('stdin: no key given: pipe it in, pass --key-file <path>, or run on a terminal to type it');
    return parsePrivateKey(text, 'stdin');
  }
  if (opts.keyFile !== undefined) return parsePrivateKey(readSecretFile(opts.keyFile, '--key-file'), `--key-file ${opts.keyFile}`);
  const tty = openTerminal(io);
  if (!tty) throw new KeystoreCommandError('no terminal to ask for the key on: pass --key-file <path> or pipe it to stdin');
  try {
    return parsePrivateKey(await hiddenLines(tty.input, io).ask('Private key (hex, not shown): '), 'the key typed');
  } finally {
    tty.close();
  }
}

/** Write 0600 beside the target, then rename: never a half-written or world-readable keystore. */
function writeKeystoreFile(out: string, json: string, force: boolean): string {
  const path = resolve(out);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeFileSync(fd, `${json}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    // A hard link fails on an existing name: a keystore (maybe the only copy of a key) is never
    // replaced without --force. rename replaces atomically.
    if (force) renameSync(tmp, path);
    else linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new KeystoreCommandError(`${out} exists: choose another --out, or --force to replace it`);
    throw new KeystoreCommandError(`${out}: cannot write (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    rmSync(tmp, { force: true });
  }
  return path;
}

function report(path: string, key: Hex, io: KeystoreIo): void {
  io.stdout.write(
    [
      `keystore written to ${path} (mode 0600; scrypt n=${KEYSTORE_SCRYPT_N}, aes-128-ctr)`,
      `address ${privateKeyToAddress(key)}`,
      '',
      'Use it with (in .env, or the environment of the service):',
      `  KEYSTORE_PATH=${path}`,
      '  KEYSTORE_PASSWORD=<the password>',
      'and no PRIVATE_KEY. Keep a copy of the file and of the password: one without the other is lost.',
    ].join('\n') + '\n',
  );
}

async function write(key: Hex, opts: KeystoreCommandOptions, io: KeystoreIo): Promise<number> {
  const password = await askPassword(opts, io);
  const path = writeKeystoreFile(opts.out, encryptKeystore(key, password), opts.force ?? false);
  report(path, key, io);
  return 0;
}

/** `keeper keystore new`: a fresh random key, encrypted. */
export async function keystoreNewCommand(opts: KeystoreCommandOptions, io: KeystoreIo = processIo): Promise<number> {
  return write(generatePrivateKey(), opts, io);
}

/** `keeper keystore import`: an existing key (file, stdin, or typed without echo), encrypted. */
export async function keystoreImportCommand(opts: KeystoreCommandOptions, io: KeystoreIo = processIo): Promise<number> {
  const key = await askPrivateKey(opts, io);
  return write(key, opts, io);
}
