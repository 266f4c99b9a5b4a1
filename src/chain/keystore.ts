import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes, keccak256, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';

/**
 * Encrypted JSON keystores (Web3 Secret Storage v3, as geth, foundry's `cast wallet` and
 * MetaMask exports write them): scrypt or pbkdf2 key derivation, aes-128-ctr, keccak MAC.
 * Errors never contain the password or the key.
 */

interface KeystoreV3 {
  version: number;
  address?: string;
  crypto?: {
    cipher: string;
    ciphertext: string;
    cipherparams: { iv: string };
    kdf: 'scrypt' | 'pbkdf2';
    kdfparams: { dklen: number; salt: string; n?: number; r?: number; p?: number; c?: number; prf?: string };
    mac: string;
  };
  Crypto?: KeystoreV3['crypto'];
}

export class KeystoreError extends Error {
  override readonly name = 'KeystoreError';
}

function unhex(s: string): Buffer {
  return Buffer.from(s.replace(/^0x/, ''), 'hex');
}

function deriveKey(password: string, c: NonNullable<KeystoreV3['crypto']>): Buffer {
  const p = c.kdfparams;
  const salt = unhex(p.salt);
  if (c.kdf === 'scrypt') {
    const n = p.n ?? 0;
    const r = p.r ?? 8;
    try {
      return scryptSync(password.normalize('NFKC'), salt, p.dklen, { N: n, r, p: p.p ?? 1, maxmem: 256 * n * r + 1024 * 1024 });
    } catch (err) {
      // OpenSSL enforces RFC 7914's N < 2^(16 r): r = 1 with n >= 2^16 (rare; geth and ethers write r = 8) cannot be read.
      throw new KeystoreError(`scrypt parameters n=${n} r=${r} p=${p.p ?? 1} are not supported by Node's scrypt (${(err as Error).message})`);
    }
  }
  if (c.kdf === 'pbkdf2') {
    if (p.prf && p.prf !== 'hmac-sha256') throw new KeystoreError(`unsupported pbkdf2 prf ${p.prf}`);
    return pbkdf2Sync(password.normalize('NFKC'), salt, p.c ?? 262_144, p.dklen, 'sha256');
  }
  throw new KeystoreError(`unsupported key derivation ${String(c.kdf)}`);
}

/** Decrypt a keystore's private key. A wrong password is a KeystoreError that says so. */
export function decryptKeystore(json: string, password: string, source = 'keystore'): Hex {
  let ks: KeystoreV3;
  try {
    ks = JSON.parse(json) as KeystoreV3;
  } catch {
    throw new KeystoreError(`${source}: not valid JSON`);
  }
  const c = ks.crypto ?? ks.Crypto;
  if (ks.version !== 3 || !c) throw new KeystoreError(`${source}: not a version 3 keystore`);
  if (c.cipher !== 'aes-128-ctr') throw new KeystoreError(`${source}: unsupported cipher ${c.cipher}`);
  let derived: Buffer;
  try {
    derived = deriveKey(password, c);
  } catch (err) {
    throw err instanceof KeystoreError ? new KeystoreError(`${source}: ${err.message}`) : err;
  }
  const ciphertext = unhex(c.ciphertext);
  const mac = unhex(keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])));
  const expected = unhex(c.mac);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
    throw new KeystoreError(`${source}: wrong password (the keystore MAC does not match)`);
  }
  const decipher = createDecipheriv('aes-128-ctr', derived.subarray(0, 16), unhex(c.cipherparams.iv));
  const key = bytesToHex(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  if (ks.address && privateKeyToAddress(key).toLowerCase().replace(/^0x/, '') !== ks.address.toLowerCase().replace(/^0x/, '')) {
    throw new KeystoreError(`${source}: the decrypted key does not match the keystore's address`);
  }
  return key;
}

export function readKeystoreFile(path: string, password: string): Hex {
  let json: string;
  try {
    json = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeystoreError(`KEYSTORE_PATH=${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return decryptKeystore(json, password, `KEYSTORE_PATH=${path}`);
}

/** scrypt cost of the keystores we write: the standard "strong" parameters of geth and ethers (n 2^18, r 8, p 1). */
export const KEYSTORE_SCRYPT_N = 1 << 18;

/** Write a v3 keystore (scrypt). Light parameters are for tests only. */
export function encryptKeystore(privateKey: Hex, password: string, opts: { light?: boolean } = {}): string {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const n = opts.light ? 1 << 12 : KEYSTORE_SCRYPT_N;
  const kdfparams = { dklen: 32, salt: salt.toString('hex'), n, r: 8, p: 1 };
  const derived = scryptSync(password.normalize('NFKC'), salt, 32, { N: n, r: 8, p: 1, maxmem: 256 * n * 8 + 1024 * 1024 });
  const cipher = createCipheriv('aes-128-ctr', derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(hexToBytes(privateKey)), cipher.final()]);
  const mac = keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])).slice(2);
  return JSON.stringify({
    version: 3,
    id: randomUUID(),
    address: privateKeyToAddress(privateKey).slice(2).toLowerCase(),
    crypto: { cipher: 'aes-128-ctr', ciphertext: ciphertext.toString('hex'), cipherparams: { iv: iv.toString('hex') }, kdf: 'scrypt', kdfparams, mac },
  });
}
