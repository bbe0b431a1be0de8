import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client';
import { countActiveApiKeys, createApiKey, findActiveApiKeyByHash, pingDb } from '../../src/db/queries';
import { createTestDb } from '../support/db';

let db: Db;
beforeEach(async () => {
  db = await createTestDb();
});
afterEach(async () => {
  await db.close();
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('api keys', () => {
  it('finds a key by its hash and counts it as active until it is revoked', async () => {
    const created = await createApiKey(db, { name: 'admin', keyHash: sha256('k1'), keyPrefix: 'k1abcdef' });
    expect(created).toMatchObject({ name: 'admin', keyPrefix: 'k1abcdef', revokedAt: null, lastUsedAt: null });
    expect((await findActiveApiKeyByHash(db, sha256('k1')))?.id).toBe(created.id);
    expect(await findActiveApiKeyByHash(db, sha256('other'))).toBeUndefined();
    expect(await countActiveApiKeys(db)).toBe(1);

    const t = db.schema.apiKeys;
    await db.orm
      .update(t)
      .set({ revokedAt: new Date() })
      .where(sql`${t.id} = ${created.id}`);

    expect(await findActiveApiKeyByHash(db, sha256('k1'))).toBeUndefined();
    expect(await countActiveApiKeys(db)).toBe(0);
  });

  it('refuses two keys with the same hash', async () => {
    await createApiKey(db, { name: 'a', keyHash: sha256('k'), keyPrefix: 'kkkkkkkk' });
    await expect(createApiKey(db, { name: 'b', keyHash: sha256('k'), keyPrefix: 'kkkkkkkk' })).rejects.toThrow();
  });
});

describe('pingDb', () => {
  it('resolves while the database answers and rejects once it is closed', async () => {
    await expect(pingDb(db)).resolves.toBeUndefined();
    const other = await createTestDb();
    await other.close();
    await expect(pingDb(other)).rejects.toThrow();
  });
});
