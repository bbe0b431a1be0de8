/**
 * The CTA link keyring, kept in MasterData (category `cta`, key `signingKeys`) as one row sealed
 * with the SecretBox, so it survives restarts, is shared by every API and worker process, and
 * never sits in the database in the clear.
 *
 * One row, not one per key, so every change is a single compare-and-set on that row: the first
 * key is created by an insert the unique index (Category, Key) arbitrates, and a rotation or
 * retirement only lands if the row still holds what it was computed from (the sealed text has a
 * fresh IV each write, so "unchanged" cannot be faked by an equal value). Concurrent writers
 * therefore never lose each other's keys, in SQLite or SQL Server, without any locking hints.
 */
import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { CodedError } from '../errors';
import { isUniqueViolation } from '../db/errors';
import { getMasterDataCategory } from '../db/queries';
import { affectedRows } from '../db/queries/common';
import type { SecretBox } from '../settings/secret-box';
import { CTA_KID_PATTERN, CTA_SECRET_MIN_BYTES, type CtaKeyring, type CtaSigningKey } from './tokens';

export const CTA_SETTINGS_CATEGORY = 'cta';
const KEYRING_KEY = 'signingKeys';
/** Binds the sealed value to this row, so a sealed value copied from elsewhere does not open here. */
const SEAL_CONTEXT = `${CTA_SETTINGS_CATEGORY}/${KEYRING_KEY}`;
const DEFAULT_CACHE_MS = 5_000;
/** Compare-and-set attempts before giving up; only a storm of concurrent admin writes needs a second. */
const MAX_WRITE_ATTEMPTS = 5;

export class CtaSigningKeyError extends CodedError<'current_key' | 'unknown_key' | 'write_conflict'> {}

interface StoredKey {
  kid: string;
  /** base64url of the secret bytes. */
  secret: string;
  createdAt: string;
}

interface StoredKeyring {
  v: 1;
  current: string;
  keys: StoredKey[];
}

interface LoadedKeyring {
  stored: StoredKeyring;
  /** The row's exact text, the "expected" of the next compare-and-set. */
  sealed: string;
}

function newKey(now: Date): StoredKey {
  // 9 random bytes → 12 base64url characters: collisions are not a practical concern.
  return {
    kid: randomBytes(9).toString('base64url'),
    secret: randomBytes(CTA_SECRET_MIN_BYTES).toString('base64url'),
    createdAt: now.toISOString(),
  };
}

function parseKeyring(text: string): StoredKeyring {
  const parsed = JSON.parse(text) as StoredKeyring;
  const valid =
    parsed?.v === 1 &&
    Array.isArray(parsed.keys) &&
    parsed.keys.every(
      (key) => CTA_KID_PATTERN.test(key.kid) && typeof key.secret === 'string' && typeof key.createdAt === 'string',
    ) &&
    parsed.keys.some((key) => key.kid === parsed.current);
  if (!valid) throw new Error(`MasterData ${SEAL_CONTEXT} does not hold a valid CTA keyring`);
  return parsed;
}

function toKeyring(stored: StoredKeyring): CtaKeyring {
  const keys = new Map<string, CtaSigningKey>(
    stored.keys.map((key) => [key.kid, { kid: key.kid, secret: Buffer.from(key.secret, 'base64url') }]),
  );
  const current = keys.get(stored.current);
  if (!current) throw new Error(`MasterData ${SEAL_CONTEXT} names a current key it does not hold`);
  return { current, keys };
}

async function readKeyring(db: Db, box: SecretBox): Promise<LoadedKeyring | null> {
  const row = (await getMasterDataCategory(db, CTA_SETTINGS_CATEGORY)).find((r) => r.key === KEYRING_KEY);
  if (!row || row.value === '') return null;
  return { stored: parseKeyring(box.open(row.value, SEAL_CONTEXT)), sealed: row.value };
}

/** Insert-if-absent: false when another process created the row first. */
async function insertKeyringRow(db: Db, sealed: string): Promise<boolean> {
  const { masterData: t } = db.schema;
  try {
    await db.orm.insert(t).values({
      category: CTA_SETTINGS_CATEGORY,
      key: KEYRING_KEY,
      value: sealed,
      isSecret: true,
      updatedAt: new Date(),
    });
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

/** Compare-and-set: false when the row no longer holds `expected`. */
async function replaceKeyringRow(db: Db, expected: string, sealed: string): Promise<boolean> {
  const { masterData: t } = db.schema;
  const result = await db.orm
    .update(t)
    .set({ value: sealed, isSecret: true, updatedAt: new Date() })
    .where(and(eq(t.category, CTA_SETTINGS_CATEGORY), eq(t.key, KEYRING_KEY), eq(t.value, expected)));
  return affectedRows(result) === 1;
}

/** The stored keyring, creating it with its first key when there is none (whoever inserts first wins). */
async function loadOrCreateKeyring(db: Db, box: SecretBox, now: Date): Promise<LoadedKeyring> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const existing = await readKeyring(db, box);
    if (existing) return existing;
    const first = newKey(now);
    const stored: StoredKeyring = { v: 1, current: first.kid, keys: [first] };
    const sealed = box.seal(JSON.stringify(stored), SEAL_CONTEXT);
    if (await insertKeyringRow(db, sealed)) return { stored, sealed };
  }
  throw new CtaSigningKeyError('write_conflict', 'could not create the CTA keyring (it kept changing); try again');
}

/** Applies `change` to the current keyring until the compare-and-set lands. */
async function updateKeyring<T>(
  db: Db,
  box: SecretBox,
  change: (stored: StoredKeyring, now: Date) => { next: StoredKeyring; result: T },
): Promise<T> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const now = new Date();
    const loaded = await loadOrCreateKeyring(db, box, now);
    const { next, result } = change(loaded.stored, now);
    if (await replaceKeyringRow(db, loaded.sealed, box.seal(JSON.stringify(next), SEAL_CONTEXT))) return result;
  }
  throw new CtaSigningKeyError('write_conflict', 'the CTA keyring changed during every attempt; try again');
}

/**
 * The click endpoint's and the CTA activities' source of keys. The keyring is reused for
 * `cacheMs`, so the click path does not open the row on every request; a rotation therefore
 * reaches other processes' signing within that time (old tokens verify throughout), and a
 * retired key stops verifying within that time. Concurrent first calls share one read.
 */
export function ctaKeyringReader(
  db: Db,
  secretBox: SecretBox,
  options: { cacheMs?: number; now?: () => Date } = {},
): () => Promise<CtaKeyring> {
  const cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS;
  const now = options.now ?? (() => new Date());
  let cached: { keyring: CtaKeyring; until: number } | null = null;
  let loading: Promise<CtaKeyring> | null = null;

  return async () => {
    if (cached && cached.until > now().getTime()) return cached.keyring;
    loading ??= loadOrCreateKeyring(db, secretBox, now())
      .then(({ stored }) => {
        const keyring = toKeyring(stored);
        cached = { keyring, until: now().getTime() + cacheMs };
        return keyring;
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  };
}

/** Adds a new key and makes it the one that signs; every older key keeps verifying. */
export async function rotateCtaSigningKey(db: Db, secretBox: SecretBox): Promise<{ kid: string; createdAt: string }> {
  return updateKeyring(db, secretBox, (stored, now) => {
    const key = newKey(now);
    return {
      next: { ...stored, current: key.kid, keys: [...stored.keys, key] },
      result: { kid: key.kid, createdAt: key.createdAt },
    };
  });
}

/** Every key, oldest first, without its secret. Empty until the first key exists. */
export async function listCtaSigningKeys(
  db: Db,
  secretBox: SecretBox,
): Promise<{ kid: string; createdAt: string; current: boolean }[]> {
  const loaded = await readKeyring(db, secretBox);
  if (!loaded) return [];
  return loaded.stored.keys.map((key) => ({
    kid: key.kid,
    createdAt: key.createdAt,
    current: key.kid === loaded.stored.current,
  }));
}

/**
 * Removes a key that no longer signs: links signed with it stop verifying (after the readers'
 * cache time). Retire a key only once the longest link lifetime has passed since its rotation.
 */
export async function retireCtaSigningKey(db: Db, secretBox: SecretBox, kid: string): Promise<void> {
  await updateKeyring(db, secretBox, (stored) => {
    if (kid === stored.current) {
      throw new CtaSigningKeyError(
        'current_key',
        `key ${kid} is the current signing key; rotate first, then retire it`,
      );
    }
    if (!stored.keys.some((key) => key.kid === kid))
      throw new CtaSigningKeyError('unknown_key', `no CTA signing key ${kid}`);
    return { next: { ...stored, keys: stored.keys.filter((key) => key.kid !== kid) }, result: undefined };
  });
}
