import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createSecretBox, generateSecretKey, isSealed, SecretBoxError } from '../../src/settings/secret-box';

const box = createSecretBox(generateSecretKey());
const SECRET = 'interakt-key-0123456789abcdef';

/** Replaces one base64url character of part `index` (1 = iv, 2 = tag, 3 = ciphertext). */
function tamper(sealed: string, index: number): string {
  const parts = sealed.split(':');
  const part = parts[index]!;
  parts[index] = (part[0] === 'A' ? 'B' : 'A') + part.slice(1);
  return parts.join(':');
}

describe('secret box (AES-256-GCM)', () => {
  it('seals to v1:<iv>:<tag>:<ciphertext> in base64url without the plaintext, and opens it again', () => {
    const sealed = box.seal(SECRET, 'interakt/apiKey');
    expect(sealed).toMatch(/^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain(SECRET);
    expect(box.open(sealed, 'interakt/apiKey')).toBe(SECRET);
  });

  it('uses a fresh IV each time, so the same secret never seals to the same text', () => {
    expect(box.seal(SECRET)).not.toBe(box.seal(SECRET));
  });

  it.each([
    [1, 'iv'],
    [2, 'tag'],
    [3, 'ciphertext'],
  ])('refuses a value whose %s part (%s) was altered', (index) => {
    const sealed = box.seal(SECRET);
    expect(() => box.open(tamper(sealed, index))).toThrow(SecretBoxError);
  });

  it('refuses a value sealed with another key, or for another setting', () => {
    const sealed = box.seal(SECRET, 'interakt/webhookSecret');
    expect(() => createSecretBox(generateSecretKey()).open(sealed, 'interakt/webhookSecret')).toThrow(
      /failed authentication/,
    );
    expect(() => box.open(sealed, 'interakt/apiKey')).toThrow(/failed authentication/);
  });

  it('refuses text that is not a sealed value, and a truncated one', () => {
    expect(() => box.open(SECRET)).toThrow(/not in the v1 sealed format/);
    const sealed = box.seal(SECRET);
    expect(() => box.open(sealed.slice(0, -4))).toThrow(SecretBoxError);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createSecretBox(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });

  it('without a key, refuses to seal or open with a message saying what to set', () => {
    const locked = createSecretBox(undefined);
    expect(locked.available).toBe(false);
    expect(() => locked.seal(SECRET)).toThrow(/DRIPLINE_SECRET_KEY is not set/);
    expect(() => locked.open('v1:a:b:c')).toThrow(expect.objectContaining({ code: 'secret_key_missing' }));
  });
});

describe('DRIPLINE_SECRET_KEY in config', () => {
  it('is required in production, and optional in development and test', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DRIPLINE_SECRET_KEY: is required in production/);
    expect(loadConfig({ NODE_ENV: 'development' }).DRIPLINE_SECRET_KEY).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'test' }).DRIPLINE_SECRET_KEY).toBeUndefined();
  });

  it('must be 32 bytes of base64, and a bad one is refused without being echoed', () => {
    const key = generateSecretKey();
    expect(loadConfig({ NODE_ENV: 'production', DRIPLINE_SECRET_KEY: key }).DRIPLINE_SECRET_KEY).toBe(key);
    const short = randomBytes(16).toString('base64');
    let message = '';
    try {
      loadConfig({ DRIPLINE_SECRET_KEY: short });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/DRIPLINE_SECRET_KEY: must be 32 random bytes/);
    expect(message).not.toContain(short);
  });
});
