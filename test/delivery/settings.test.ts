/** The delivery settings' new fields: their defaults, how a change merges, and their bounds. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import { setMasterDataValues } from '../../src/db/queries';
import { UpdateDeliverySettingsBody } from '../../src/delivery/schemas';
import { DELIVERY_SETTINGS_CATEGORY, readDeliverySettings, writeDeliverySettings } from '../../src/delivery/settings';
import { createTestDb } from '../support/db';

describe('delivery settings: keyword replies and the marketing-limit retry', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('defaults to no confirmation and a 6-hour retry, also for settings stored before these fields', async () => {
    expect(await readDeliverySettings(db)).toMatchObject({
      keywordReplies: { optOut: null, optIn: null },
      marketingLimitRetryMinutes: 360,
    });
    await setMasterDataValues(db, DELIVERY_SETTINGS_CATEGORY, [
      { key: 'rules', value: JSON.stringify({ defaultTimeZone: 'Asia/Kolkata' }), isSecret: false },
    ]);
    expect(await readDeliverySettings(db)).toMatchObject({
      defaultTimeZone: 'Asia/Kolkata',
      keywordReplies: { optOut: null, optIn: null },
      marketingLimitRetryMinutes: 360,
    });
  });

  it('changes one confirmation and keeps the other; null turns one off and turns the retry off', async () => {
    const stop = { templateName: 'stop_confirmation', templateLanguage: 'en' };
    const start = { templateName: 'start_confirmation', templateLanguage: 'es' };
    await writeDeliverySettings(db, { keywordReplies: { optOut: stop } });
    expect((await writeDeliverySettings(db, { keywordReplies: { optIn: start } })).keywordReplies).toEqual({
      optOut: stop,
      optIn: start,
    });
    const off = await writeDeliverySettings(db, { keywordReplies: { optOut: null }, marketingLimitRetryMinutes: null });
    expect(off).toMatchObject({ keywordReplies: { optOut: null, optIn: start }, marketingLimitRetryMinutes: null });
    expect(await readDeliverySettings(db)).toEqual(off);
  });

  it('bounds the retry delay to 1 minute .. 1 day, whole minutes, or null', () => {
    const valid = (marketingLimitRetryMinutes: unknown) =>
      UpdateDeliverySettingsBody.safeParse({ marketingLimitRetryMinutes }).success;
    expect([1, 90, 1440, null].map(valid)).toEqual([true, true, true, true]);
    expect([0, -5, 1441, 10080, 1.5, '60'].map(valid)).toEqual([false, false, false, false, false, false]);
  });

  it('takes a confirmation template by name (language en by default) and refuses anything else in it', () => {
    expect(
      UpdateDeliverySettingsBody.parse({ keywordReplies: { optOut: { templateName: 'stop_confirmation' } } }),
    ).toEqual({ keywordReplies: { optOut: { templateName: 'stop_confirmation', templateLanguage: 'en' } } });
    expect(
      UpdateDeliverySettingsBody.safeParse({
        keywordReplies: { optOut: { templateName: 'stop_confirmation', body: 'Bye' } },
      }).success,
    ).toBe(false);
    expect(UpdateDeliverySettingsBody.safeParse({ keywordReplies: { optOut: { templateName: '' } } }).success).toBe(
      false,
    );
  });
});
