import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { executeStatement, type Db } from '../../src/db/client';
import { getMasterDataCategory, setMasterDataValues } from '../../src/db/queries';
import {
  countryForCallingCode,
  defaultCountryOf,
  INTERAKT_SETTINGS_CATEGORY,
  interaktApiKeyReader,
  interaktWebhookSecretReader,
  maskSecret,
  readInteraktOptions,
  readInteraktSettings,
  writeInteraktSettings,
} from '../../src/settings/provider-settings';
import { createSecretBox, generateSecretKey } from '../../src/settings/secret-box';
import { createTestDb } from '../support/db';

const box = createSecretBox(generateSecretKey());
const KEY = 'stored-interakt-key-9f3e';

describe('Interakt settings in MasterData', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await executeStatement(db, 'DELETE FROM MasterData');
  });

  it('verifies webhooks with the saved secret, else the environment’s, re-reading it once its cache expires', async () => {
    let clock = 0;
    const read = interaktWebhookSecretReader(db, box, { webhookSecret: 'env-secret' }, 5_000, () => clock);
    expect(await read()).toBe('env-secret');

    await writeInteraktSettings(db, box, { webhookSecret: 'rotated-secret' });
    clock = 4_999;
    expect(await read()).toBe('env-secret');
    clock = 5_001;
    expect(await read()).toBe('rotated-secret');
  });

  it('with nothing stored, uses the defaults and the environment’s key and webhook secret', async () => {
    expect(await readInteraktSettings(db, box, { apiKey: 'env-key', webhookSecret: 'env-secret' })).toEqual({
      enabled: true,
      defaultCountryCode: null,
      welcomeOnCreate: false,
      welcomeTemplateName: null,
      welcomeTemplateLanguage: 'en',
      welcomeHeaderMediaUrl: null,
      welcomeFileName: null,
      trackingEnabled: false,
      trackedTraits: {},
      apiKey: 'env-key',
      apiKeySource: 'environment',
      webhookSecret: 'env-secret',
      webhookSecretSource: 'environment',
    });
  });

  it('keeps the tracked-trait mapping as JSON and reads it back; a hand-edited non-object reads as none', async () => {
    await writeInteraktSettings(db, box, {
      trackingEnabled: true,
      trackedTraits: { Name: 'name', City: 'custom.city' },
    });
    expect(await readInteraktSettings(db, box)).toMatchObject({
      trackingEnabled: true,
      trackedTraits: { Name: 'name', City: 'custom.city' },
    });
    await setMasterDataValues(db, INTERAKT_SETTINGS_CATEGORY, [
      { key: 'trackedTraits', value: '[1,2]', isSecret: false },
    ]);
    expect((await readInteraktSettings(db, box)).trackedTraits).toEqual({});
    await writeInteraktSettings(db, box, { trackingEnabled: false, trackedTraits: {} });
  });

  it('stores secrets sealed (never the plaintext) and reads back every field', async () => {
    await writeInteraktSettings(db, box, {
      enabled: true,
      apiKey: KEY,
      defaultCountryCode: '+91',
      welcomeOnCreate: true,
      welcomeTemplateName: 'seller_registration',
      welcomeHeaderMediaUrl: 'https://example.com/Ipshopy_Policies.pdf',
      welcomeFileName: 'Ipshopy_Policies.pdf',
      webhookSecret: 'webhook-secret-123',
    });

    const rows = await getMasterDataCategory(db, 'interakt');
    const apiKeyRow = rows.find((row) => row.key === 'apiKey')!;
    expect(apiKeyRow).toMatchObject({ isSecret: true, value: expect.stringMatching(/^v1:/) });
    expect(rows.filter((row) => row.value.includes(KEY) || row.value.includes('webhook-secret-123'))).toEqual([]);
    expect(await readInteraktSettings(db, box, { apiKey: 'env-key' })).toMatchObject({
      apiKey: KEY,
      apiKeySource: 'settings',
      webhookSecret: 'webhook-secret-123',
      welcomeOnCreate: true,
      welcomeTemplateName: 'seller_registration',
      welcomeTemplateLanguage: 'en',
      welcomeHeaderMediaUrl: 'https://example.com/Ipshopy_Policies.pdf',
      welcomeFileName: 'Ipshopy_Policies.pdf',
      defaultCountryCode: '+91',
    });
  });

  it('reads the non-secret options without the key, and removing a secret falls back to the environment', async () => {
    await writeInteraktSettings(db, box, { apiKey: KEY, welcomeOnCreate: true });
    expect(await readInteraktOptions(db)).toMatchObject({ welcomeOnCreate: true });
    expect((await readInteraktOptions(db)) as object).not.toHaveProperty('apiKey');

    await writeInteraktSettings(db, box, { apiKey: null });
    expect(await readInteraktSettings(db, box, { apiKey: 'env-key' })).toMatchObject({
      apiKey: 'env-key',
      apiKeySource: 'environment',
    });
  });

  it('the worker’s key reader sees a rotated key on its very next call', async () => {
    const getApiKey = interaktApiKeyReader(db, box, { apiKey: 'env-key' });
    expect(await getApiKey()).toBe('env-key');
    await writeInteraktSettings(db, box, { apiKey: 'rotated-key-0001' });
    expect(await getApiKey()).toBe('rotated-key-0001');
    await writeInteraktSettings(db, box, { apiKey: 'rotated-key-0002' });
    expect(await getApiKey()).toBe('rotated-key-0002');
  });

  it('the key reader refuses while Interakt is disabled or no key exists anywhere', async () => {
    await expect(interaktApiKeyReader(db, box, {})()).rejects.toThrow(/no Interakt API key is configured/);
    await writeInteraktSettings(db, box, { apiKey: KEY, enabled: false });
    await expect(interaktApiKeyReader(db, box, {})()).rejects.toThrow(/disabled/);
  });

  it('a sealed key cannot be read with another DRIPLINE_SECRET_KEY', async () => {
    await writeInteraktSettings(db, box, { apiKey: KEY });
    await expect(readInteraktSettings(db, createSecretBox(generateSecretKey()))).rejects.toThrow(
      /failed authentication/,
    );
    await expect(readInteraktSettings(db, createSecretBox(undefined))).rejects.toThrow(
      /DRIPLINE_SECRET_KEY is not set/,
    );
  });
});

describe('masking and the default country', () => {
  it('shows only the last four characters of a secret, and nothing of a short one', () => {
    expect(maskSecret('abcdefgh-1234-1a2b')).toBe('••••••••1a2b');
    expect(maskSecret('short-key')).toBe('••••••••');
  });

  it('maps a calling code to its main country, and falls back to DEFAULT_COUNTRY', () => {
    expect(countryForCallingCode('+91')).toBe('IN');
    expect(countryForCallingCode('+1')).toBe('US');
    expect(countryForCallingCode('+44')).toBe('GB');
    expect(countryForCallingCode('+999')).toBeUndefined();
    expect(countryForCallingCode('91')).toBeUndefined();
    expect(defaultCountryOf({ defaultCountryCode: '+44' }, 'IN')).toBe('GB');
    expect(defaultCountryOf({ defaultCountryCode: null }, 'IN')).toBe('IN');
  });
});
