/**
 * Encryption at rest for secrets kept in the database (provider API keys, webhook secrets).
 * AES-256-GCM with a 32-byte key from DRIPLINE_SECRET_KEY; every value gets a fresh 12-byte IV.
 * Sealed form: `v1:<iv>:<tag>:<ciphertext>`, each part base64url. The optional `context` (e.g.
 * `interakt/apiKey`) is bound as additional authenticated data, so a sealed value copied into
 * another setting's row does not open there. Any change to a sealed value makes `open` throw.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError, CodedError } from '../errors';

export const SECRET_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const SEALED_FORMAT = /^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]*$/;

export class SecretBoxError extends CodedError<'secret_key_missing' | 'secret_key_invalid' | 'secret_unreadable'> {}

/**
 * For routes that read or write sealed settings. Without the key nothing sealed can be read or
 * written: unavailable until it is configured. Any other failure (a sealed value that does not
 * open) is unexpected, and is rethrown as it is: a 500, logged.
 */
export function secretsUnavailable(error: unknown): never {
  if (error instanceof SecretBoxError && error.code === 'secret_key_missing') {
    throw new AppError('unavailable', error.code, error.message);
  }
  throw error;
}

export interface SecretBox {
  /** False when no key is configured: `seal` and `open` then throw `secret_key_missing`. */
  readonly available: boolean;
  seal(plaintext: string, context?: string): string;
  open(sealed: string, context?: string): string;
}

/** A fresh key in the form DRIPLINE_SECRET_KEY takes (base64 of 32 random bytes). */
export function generateSecretKey(): string {
  return randomBytes(SECRET_KEY_BYTES).toString('base64');
}

export function isSealed(value: string): boolean {
  return SEALED_FORMAT.test(value);
}

/**
 * The box for a configured key, or, when `keyBase64` is undefined (allowed outside production
 * only, see config.ts), a box that refuses every operation with a message saying what to set.
 */
export function createSecretBox(keyBase64: string | undefined): SecretBox {
  if (keyBase64 === undefined) return unavailableBox;
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== SECRET_KEY_BYTES) {
    throw new SecretBoxError(
      'secret_key_invalid',
      `DRIPLINE_SECRET_KEY must decode to ${SECRET_KEY_BYTES} bytes, got ${key.length}`,
    );
  }

  return {
    available: true,
    seal(plaintext, context = '') {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), ciphertext]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join(':');
    },
    open(sealed, context = '') {
      if (!isSealed(sealed))
        throw new SecretBoxError('secret_unreadable', 'stored secret is not in the v1 sealed format');
      const [, ivText, tagText, ciphertextText] = sealed.split(':') as [string, string, string, string];
      const iv = Buffer.from(ivText, 'base64url');
      const tag = Buffer.from(tagText, 'base64url');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
        throw new SecretBoxError('secret_unreadable', 'stored secret has a malformed IV or tag');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        // GCM says only "unable to authenticate": a wrong key, another setting's value, or tampering.
        throw new SecretBoxError(
          'secret_unreadable',
          'stored secret failed authentication (wrong DRIPLINE_SECRET_KEY, or the value was altered)',
        );
      }
    },
  };
}

const missingKey = (): never => {
  throw new SecretBoxError(
    'secret_key_missing',
    'DRIPLINE_SECRET_KEY is not set, so stored secrets cannot be read or written (`npm start` generates a local one into data/secret-key.txt)',
  );
};

const unavailableBox: SecretBox = { available: false, seal: missingKey, open: missingKey };
