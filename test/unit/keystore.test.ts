import { describe, expect, it } from 'vitest';
import { scrypt } from '@noble/hashes/scrypt';
import { keccak_256 } from '@noble/hashes/sha3';
import { ctr } from '@noble/ciphers/aes';
import { bytesToHex, hexToBytes } from 'viem';
import { decryptKeystore, encryptKeystore, KEYSTORE_SCRYPT_N } from '../../src/chain/keystore.js';
import { KeystoreCommandError, parsePrivateKey } from '../../src/runner/keystore-command.js';

const KEY = '0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d';

describe('v3 keystores we write are the standard format', () => {
  /** A keystore written by another implementation (@noble's scrypt and AES), geth's parameters. */
  function nobleKeystore(password: string, kdfparams: { n: number; r: number; p: number }): string {
    const salt = hexToBytes('0xab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19');
    const iv = hexToBytes('0x83dbcc02d8ccb40e466191a123791e0e');
    const derived = scrypt(new TextEncoder().encode(password), salt, { N: kdfparams.n, r: kdfparams.r, p: kdfparams.p, dkLen: 32 });
    const ciphertext = ctr(derived.slice(0, 16), iv).encrypt(hexToBytes(KEY));
    const mac = keccak_256(new Uint8Array([...derived.slice(16, 32), ...ciphertext]));
    return JSON.stringify({
      version: 3,
      crypto: {
        cipher: 'aes-128-ctr', cipherparams: { iv: bytesToHex(iv).slice(2) }, ciphertext: bytesToHex(ciphertext).slice(2),
        kdf: 'scrypt', kdfparams: { ...kdfparams, dklen: 32, salt: bytesToHex(salt).slice(2) }, mac: bytesToHex(mac).slice(2),
      },
    });
  }

  it('decrypts a keystore another implementation wrote', () => {
    expect(decryptKeystore(nobleKeystore('testpassword', { n: 4096, r: 8, p: 1 }), 'testpassword')).toBe(KEY);
  });

  it("the Web3 Secret Storage scrypt vector (r 1, n 2^18) is beyond Node's scrypt: a clear error, not a wrong-password one", () => {
    // OpenSSL enforces RFC 7914's N < 2^(16 r); the definition's vector has r = 1. geth and ethers write r = 8.
    const vector = JSON.stringify({
      crypto: {
        cipher: 'aes-128-ctr',
        cipherparams: { iv: '83dbcc02d8ccb40e466191a123791e0e' },
        ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
        kdf: 'scrypt',
        kdfparams: { dklen: 32, n: 262144, p: 8, r: 1, salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19' },
        mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
      },
      id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
      version: 3,
    });
    expect(() => decryptKeystore(vector, 'testpassword', 'KEYSTORE_PATH=/k.json')).toThrow(
      /^KEYSTORE_PATH=\/k\.json: scrypt parameters n=262144 r=1 p=8 are not supported by Node's scrypt/,
    );
  });

  it('another implementation (@noble: scrypt, AES-128-CTR, keccak MAC) decrypts what we write', () => {
    const json = JSON.parse(encryptKeystore(KEY, 'pässword', { light: true })) as {
      crypto: { ciphertext: string; cipherparams: { iv: string }; kdfparams: { n: number; r: number; p: number; dklen: number; salt: string }; mac: string };
    };
    const c = json.crypto;
    const derived = scrypt(new TextEncoder().encode('pässword'.normalize('NFKC')), hexToBytes(`0x${c.kdfparams.salt}`), {
      N: c.kdfparams.n, r: c.kdfparams.r, p: c.kdfparams.p, dkLen: c.kdfparams.dklen,
    });
    const ciphertext = hexToBytes(`0x${c.ciphertext}`);
    const mac = keccak_256(new Uint8Array([...derived.slice(16, 32), ...ciphertext]));
    expect(bytesToHex(mac).slice(2)).toBe(c.mac);
    const plain = ctr(derived.slice(0, 16), hexToBytes(`0x${c.cipherparams.iv}`)).decrypt(ciphertext);
    expect(bytesToHex(plain)).toBe(KEY);
  });

  it('the standard cost by default: scrypt n 2^18, r 8, p 1', () => {
    expect(KEYSTORE_SCRYPT_N).toBe(262_144);
  });
});

describe('parsePrivateKey (keystore import)', () => {
  it.each([
    ['0x-prefixed', KEY, KEY],
    ['bare hex', KEY.slice(2), KEY],
    ['upper case, 0X, surrounding whitespace', `  0X${KEY.slice(2).toUpperCase()}\n`, KEY],
  ])('accepts %s', (_name, input, want) => {
    expect(parsePrivateKey(input, 'stdin')).toBe(want);
  });

  it.each([
    ['too short', KEY.slice(0, 60), 'expected a private key of 64 hex digits'],
    ['not hex', `${KEY.slice(0, 64)}zz`, 'expected a private key of 64 hex digits'],
    ['zero', `0x${'0'.repeat(64)}`, 'not a valid secp256k1 private key'],
    ['above the curve order', `0x${'f'.repeat(64)}`, 'not a valid secp256k1 private key'],
  ])('refuses %s, naming the source and never the key', (_name, input, message) => {
    let error: unknown;
    try {
      parsePrivateKey(input, '--key-file /k');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeystoreCommandError);
    expect((error as Error).message).toContain(`--key-file /k: ${message}`);
    expect((error as Error).message).not.toContain(input.trim().slice(4, 40));
  });
});
