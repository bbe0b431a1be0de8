import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CtaSigningKeyError,
  ctaKeyringReader,
  listCtaSigningKeys,
  retireCtaSigningKey,
  rotateCtaSigningKey,
} from '../../src/cta/signing-keys';
import { signCtaToken, verifyCtaToken, type CtaKeyring } from '../../src/cta/tokens';
import { openDb, type Db } from '../../src/db/client';
import { getMasterDataCategory } from '../../src/db/queries';
import { migrate } from '../../src/db/migrate';
import { createSecretBox, generateSecretKey } from '../../src/settings/secret-box';
import { createRecordingMssql } from '../db/fake-mssql';
import { createTestDb, tempSqliteUrl } from '../support/db';

const NOW = new Date('2026-03-01T10:00:00Z');
const claims = { leadId: 31, flowId: 2, action: 'interested' as const, expiresAt: new Date('2026-04-01T00:00:00Z') };
const expected = { leadId: 31, action: 'interested' };

const secretsOf = (keyring: CtaKeyring): string[] =>
  [...keyring.keys.values()].map((key) => key.secret.toString('base64url'));

describe('CTA signing keys in MasterData', () => {
  let db: Db;
  const box = createSecretBox(generateSecretKey());
  /** No cache: every call reads the row, so each test sees the effect of the last write. */
  const read = () => ctaKeyringReader(db, box, { cacheMs: 0 })();

  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('creates the first key on first use, 32 random bytes, and stores it sealed', async () => {
    const keyring = await read();
    expect(keyring.current.secret.length).toBe(32);
    expect([...keyring.keys.keys()]).toEqual([keyring.current.kid]);

    const rows = await getMasterDataCategory(db, 'cta');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.isSecret).toBe(true);
    expect(rows[0]!.value).toMatch(/^v1:/);
    for (const secret of [
      keyring.current.secret.toString('base64url'),
      keyring.current.secret.toString('base64'),
      keyring.current.secret.toString('hex'),
    ]) {
      expect(rows[0]!.value).not.toContain(secret);
    }
    expect(rows[0]!.value).not.toContain(keyring.current.kid);
  });

  it('reads the same keyring on later uses instead of creating another', async () => {
    const first = await read();
    const again = await read();
    expect(again.current.kid).toBe(first.current.kid);
    expect(again.current.secret.equals(first.current.secret)).toBe(true);
  });

  it('does not open with another DRIPLINE_SECRET_KEY', async () => {
    await expect(ctaKeyringReader(db, createSecretBox(generateSecretKey()), { cacheMs: 0 })()).rejects.toMatchObject({
      code: 'secret_unreadable',
    });
  });

  it('rotation signs new links with the new key while links signed before still verify', async () => {
    const before = await read();
    const oldToken = signCtaToken(before, claims);

    const rotated = await rotateCtaSigningKey(db, box);
    const after = await read();

    expect(after.current.kid).toBe(rotated.kid);
    expect(after.current.kid).not.toBe(before.current.kid);
    expect(verifyCtaToken(after, oldToken, expected, NOW).ok).toBe(true);
    expect(signCtaToken(after, claims).split('.')[4]).toBe(rotated.kid);
    expect(verifyCtaToken(after, signCtaToken(after, claims), expected, NOW).ok).toBe(true);
  });

  it('lists every key with its age and which one signs, never a secret', async () => {
    const keyring = await read();
    const listed = await listCtaSigningKeys(db, box);
    expect(listed.map((key) => key.kid)).toEqual([...keyring.keys.keys()]);
    expect(listed.filter((key) => key.current).map((key) => key.kid)).toEqual([keyring.current.kid]);
    for (const key of listed) {
      expect(Object.keys(key).sort()).toEqual(['createdAt', 'current', 'kid']);
      expect(Number.isNaN(Date.parse(key.createdAt))).toBe(false);
    }
    const text = JSON.stringify(listed);
    for (const secret of secretsOf(keyring)) expect(text).not.toContain(secret);
  });

  it('retiring an old key makes the links it signed fail, and leaves the others working', async () => {
    const keyring = await read();
    const old = [...keyring.keys.values()].find((key) => key.kid !== keyring.current.kid)!;
    const oldToken = signCtaToken({ current: old, keys: keyring.keys }, claims);
    const currentToken = signCtaToken(keyring, claims);

    await retireCtaSigningKey(db, box, old.kid);
    const after = await read();

    expect(after.keys.has(old.kid)).toBe(false);
    expect(verifyCtaToken(after, oldToken, expected, NOW)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(verifyCtaToken(after, currentToken, expected, NOW).ok).toBe(true);
  });

  it('refuses to retire the current key, or a key it does not hold, and changes nothing', async () => {
    const keyring = await read();
    const rowBefore = (await getMasterDataCategory(db, 'cta'))[0]!.value;
    await expect(retireCtaSigningKey(db, box, keyring.current.kid)).rejects.toMatchObject({
      name: 'CtaSigningKeyError',
      code: 'current_key',
    });
    await expect(retireCtaSigningKey(db, box, 'noSuchKey')).rejects.toBeInstanceOf(CtaSigningKeyError);
    expect((await getMasterDataCategory(db, 'cta'))[0]!.value).toBe(rowBefore);
  });

  it('concurrent rotations all land: no rotation overwrites another', async () => {
    const before = (await listCtaSigningKeys(db, box)).length;
    const rotated = await Promise.all(Array.from({ length: 4 }, () => rotateCtaSigningKey(db, box)));
    const listed = await listCtaSigningKeys(db, box);
    expect(listed).toHaveLength(before + 4);
    expect(listed.map((key) => key.kid)).toEqual(expect.arrayContaining(rotated.map((key) => key.kid)));
    expect(listed.filter((key) => key.current)).toHaveLength(1);
  });

  it('serves the keyring from its cache within cacheMs, and reads the rotated one after', async () => {
    let clock = NOW.getTime();
    const reader = ctaKeyringReader(db, box, { cacheMs: 5_000, now: () => new Date(clock) });
    const first = await reader();
    await rotateCtaSigningKey(db, box);
    clock += 4_999;
    expect((await reader()).current.kid).toBe(first.current.kid);
    clock += 2;
    expect((await reader()).current.kid).not.toBe(first.current.kid);
  });
});

describe('CTA keyring creation across processes', () => {
  it('two processes creating the first key at once end with one keyring holding one key', async () => {
    const { url, cleanup } = tempSqliteUrl();
    const setup = await openDb(url);
    await migrate(setup);
    await setup.close();
    // Two clients on one file, as the API and the worker are: each has its own connection and gate.
    const [a, b] = await Promise.all([openDb(url), openDb(url)]);
    const box = createSecretBox(generateSecretKey());
    try {
      const keyrings = await Promise.all([a, b, a, b, a, b].map((db) => ctaKeyringReader(db, box, { cacheMs: 0 })()));
      const kids = new Set(keyrings.map((keyring) => keyring.current.kid));
      expect(kids.size).toBe(1);
      expect(new Set(keyrings.map((keyring) => keyring.current.secret.toString('hex'))).size).toBe(1);
      expect(await listCtaSigningKeys(a, box)).toHaveLength(1);
      expect(await getMasterDataCategory(b, 'cta')).toHaveLength(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
      cleanup();
    }
  });
});

describe('CTA keyring writes on SQL Server', () => {
  it('rotates with a compare-and-set on the row and retries when another writer changed it first', async () => {
    const box = createSecretBox(generateSecretKey());
    const stored = {
      v: 1,
      current: 'kidOne',
      keys: [
        { kid: 'kidOne', secret: Buffer.alloc(32, 7).toString('base64url'), createdAt: '2026-01-01T00:00:00.000Z' },
      ],
    };
    const sealed = box.seal(JSON.stringify(stored), 'cta/signingKeys');
    let updates = 0;
    const { db, queries } = createRecordingMssql((q) => {
      if (q.sql.startsWith('select')) return { recordset: [[1, 'cta', 'signingKeys', sealed, true, new Date()]] };
      if (q.sql.startsWith('update')) return { rowsAffected: [++updates === 1 ? 0 : 1] };
      return undefined;
    });

    await rotateCtaSigningKey(db, box);

    const writes = queries.filter((q) => q.sql.startsWith('update'));
    expect(writes).toHaveLength(2);
    expect(writes[0]!.sql).toBe(
      'update [MasterData] set [Value] = @par0, [IsSecret] = @par1, [UpdatedAt] = @par2 where (([MasterData].[Category] = @par3) and ([MasterData].[Key] = @par4) and ([MasterData].[Value] = @par5))',
    );
    expect(writes[0]!.params.slice(3)).toEqual(['cta', 'signingKeys', sealed]);
    const written = JSON.parse(box.open(writes[1]!.params[0] as string, 'cta/signingKeys'));
    expect(written.keys.map((key: { kid: string }) => key.kid)).toEqual(['kidOne', written.current]);
  });

  it('creates the first keyring with a plain insert, and reads the winner when the unique index refuses it', async () => {
    const box = createSecretBox(generateSecretKey());
    const winner = box.seal(
      JSON.stringify({
        v: 1,
        current: 'winner',
        keys: [
          { kid: 'winner', secret: Buffer.alloc(32, 9).toString('base64url'), createdAt: '2026-01-01T00:00:00.000Z' },
        ],
      }),
      'cta/signingKeys',
    );
    let selects = 0;
    const { db, queries } = createRecordingMssql((q) => {
      if (q.sql.startsWith('select'))
        return { recordset: ++selects === 1 ? [] : [[1, 'cta', 'signingKeys', winner, true, new Date()]] };
      if (q.sql.startsWith('insert')) {
        throw Object.assign(
          new Error(
            "Cannot insert duplicate key row in object 'dbo.MasterData' with unique index 'UX_MasterData_Category_Key'.",
          ),
          { number: 2601 },
        );
      }
      return undefined;
    });

    const keyring = await ctaKeyringReader(db, box)();

    expect(keyring.current.kid).toBe('winner');
    expect(queries.map((q) => q.sql.split(' ')[0])).toEqual(['select', 'insert', 'select']);
    expect(queries[1]!.sql).toBe(
      'insert into [MasterData] ([Category], [Key], [Value], [IsSecret], [UpdatedAt]) values (@par0, @par1, @par2, @par3, @par4)',
    );
  });
});
