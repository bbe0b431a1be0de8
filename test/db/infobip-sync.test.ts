import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction, type Db } from '../../src/db/client';
import {
  applyInfobipContacts,
  createInfobipSyncRun,
  createLead,
  findLeadByPhone,
  finishInfobipSyncRun,
  getInfobipSyncRun,
  getLastInfobipSyncSuccess,
  listInfobipSyncRuns,
  sumInfobipSyncPages,
  updateLead,
  upsertInfobipSyncPage,
  type InfobipContact,
} from '../../src/db/queries';
import { maskPhone } from '../../src/logging/redact';
import type { InfobipSyncTrigger } from '../../src/infobip-sync/contract';
import { createTestDb } from '../support/db';

const T0 = new Date('2030-03-01T10:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

let db: Db;
let phoneSeq = 0;
/** A fresh valid Indian mobile per call, so tests never collide on the unique phone. */
const nextPhone = () => `+9198${String(10_000_000 + ++phoneSeq).padStart(8, '0')}`;

const contact = (phone: string, overrides: Partial<InfobipContact> = {}): InfobipContact => ({
  phone,
  contactedAt: at(0),
  channel: 'whatsapp',
  profileId: `prof-${phone.slice(-5)}`,
  firstName: 'Asha',
  lastName: 'Rao',
  ...overrides,
});

let runSeq = 0;
async function newRun(overrides: { dryRun?: boolean; windowTo?: Date; trigger?: InfobipSyncTrigger } = {}) {
  const runKey = `test-${++runSeq}`;
  const { run } = await createInfobipSyncRun(db, {
    runKey,
    workflowId: `infobip-sync-${runKey}`,
    trigger: overrides.trigger ?? 'api',
    options: { source: 'people' },
    dryRun: overrides.dryRun ?? false,
    windowFrom: at(-60),
    windowTo: overrides.windowTo ?? at(0),
    startedAt: at(0),
  });
  return run;
}

beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db?.close();
});

describe('applyInfobipContacts', () => {
  it('creates missing leads as source infobip, named from first and last name or else the last four digits, in create mode', async () => {
    const named = nextPhone();
    const unnamed = nextPhone();
    const outcome = await applyInfobipContacts(db, {
      contacts: [contact(named), contact(unnamed, { firstName: null, lastName: null, channel: 'sms' })],
      mode: 'create_update',
      dryRun: false,
      now: at(1),
    });

    expect(outcome).toMatchObject({ matched: 0, created: 2, updated: 0, skipped: 0 });
    expect(await findLeadByPhone(db, named)).toMatchObject({
      name: 'Asha Rao',
      source: 'infobip',
      lastContactedAt: at(0),
      lastChannel: 'whatsapp',
      infobipProfileId: `prof-${named.slice(-5)}`,
      lastSyncedAt: at(1),
      status: 'New',
    });
    expect(await findLeadByPhone(db, unnamed)).toMatchObject({
      name: `Infobip contact ${unnamed.slice(-4)}`,
      lastChannel: 'sms',
    });
  });

  it('creates nothing in update-only mode and counts the unknown phones as skipped', async () => {
    const phone = nextPhone();
    const outcome = await applyInfobipContacts(db, {
      contacts: [contact(phone)],
      mode: 'update_only',
      dryRun: false,
      now: at(1),
    });
    expect(outcome).toMatchObject({ matched: 0, created: 0, updated: 0, skipped: 1 });
    expect(await findLeadByPhone(db, phone)).toBeUndefined();
  });

  it('moves last contact and channel forward, never backwards, and still marks the lead synced', async () => {
    const phone = nextPhone();
    const lead = await createLead(db, { name: 'Existing', phone });
    await updateLead(db, lead.id, { lastContactedAt: at(30) });

    const older = await applyInfobipContacts(db, {
      contacts: [contact(phone, { contactedAt: at(10), channel: 'sms', profileId: null })],
      mode: 'update_only',
      dryRun: false,
      now: at(40),
    });
    expect(older).toMatchObject({ matched: 1, updated: 0, skipped: 1 });
    expect(await findLeadByPhone(db, phone)).toMatchObject({
      lastContactedAt: at(30),
      lastChannel: null,
      lastSyncedAt: at(40),
    });

    const newer = await applyInfobipContacts(db, {
      contacts: [contact(phone, { contactedAt: at(50), channel: 'sms' })],
      mode: 'update_only',
      dryRun: false,
      now: at(60),
    });
    expect(newer).toMatchObject({ matched: 1, updated: 1, skipped: 0 });
    expect(await findLeadByPhone(db, phone)).toMatchObject({
      lastContactedAt: at(50),
      lastChannel: 'sms',
      infobipProfileId: `prof-${phone.slice(-5)}`,
      lastSyncedAt: at(60),
      name: 'Existing',
    });
  });

  it('applies the status rule only to leads in one of the allowed statuses, created leads counting as New', async () => {
    const fresh = nextPhone();
    const qualified = nextPhone();
    const created = nextPhone();
    await createLead(db, { name: 'Fresh', phone: fresh });
    await createLead(db, { name: 'Qualified', phone: qualified, status: 'Qualified' });
    const rule = { setStatus: 'Contacted', onlyIfStatusIn: ['New'] };

    await applyInfobipContacts(db, {
      contacts: [contact(fresh), contact(qualified), contact(created)],
      mode: 'create_update',
      dryRun: false,
      statusRule: rule,
      now: at(1),
    });

    expect((await findLeadByPhone(db, fresh))?.status).toBe('Contacted');
    expect((await findLeadByPhone(db, qualified))?.status).toBe('Qualified');
    expect((await findLeadByPhone(db, created))?.status).toBe('Contacted');
  });

  it('merges two records of one phone into one decision and counts the repeat as skipped', async () => {
    const phone = nextPhone();
    const outcome = await applyInfobipContacts(db, {
      contacts: [
        contact(phone, { contactedAt: at(5), channel: 'sms' }),
        contact(phone, { contactedAt: at(9), channel: 'whatsapp', profileId: null }),
      ],
      mode: 'create_update',
      dryRun: false,
      now: at(10),
    });
    expect(outcome).toMatchObject({ created: 1, skipped: 1 });
    expect(await findLeadByPhone(db, phone)).toMatchObject({
      lastContactedAt: at(9),
      lastChannel: 'whatsapp',
      infobipProfileId: `prof-${phone.slice(-5)}`,
    });
  });

  it('in a dry run reports the same decisions with masked phones and writes nothing to leads', async () => {
    const known = nextPhone();
    const unknown = nextPhone();
    const lead = await createLead(db, { name: 'Known', phone: known });
    const before = await findLeadByPhone(db, known);

    const outcome = await applyInfobipContacts(db, {
      contacts: [contact(known), contact(unknown)],
      mode: 'create_update',
      dryRun: true,
      now: at(1),
    });

    expect(outcome).toMatchObject({ matched: 1, created: 1, updated: 1, skipped: 0 });
    expect(outcome.preview).toEqual([
      {
        action: 'update',
        leadId: lead.id,
        phone: maskPhone(known),
        changes: {
          lastContactedAt: at(0).toISOString(),
          lastChannel: 'whatsapp',
          infobipProfileId: `prof-${known.slice(-5)}`,
        },
      },
      {
        action: 'create',
        leadId: null,
        phone: maskPhone(unknown),
        changes: expect.objectContaining({ name: 'Asha Rao', status: 'New' }),
      },
    ]);
    expect(JSON.stringify(outcome.preview)).not.toContain(known.slice(3));
    expect(await findLeadByPhone(db, known)).toEqual(before);
    expect(await findLeadByPhone(db, unknown)).toBeUndefined();
  });

  it('names a contact without a name by its last four digits, so no full phone reaches the preview or the lead name', async () => {
    const nameless = nextPhone();
    const dry = await applyInfobipContacts(db, {
      contacts: [contact(nameless, { firstName: null, lastName: ' ' })],
      mode: 'create_update',
      dryRun: true,
      now: at(1),
    });
    expect(dry.preview).toEqual([
      expect.objectContaining({
        action: 'create',
        phone: maskPhone(nameless),
        changes: expect.objectContaining({ name: `Infobip contact ${nameless.slice(-4)}` }),
      }),
    ]);
    expect(JSON.stringify(dry.preview)).not.toContain(nameless.slice(1, -4));

    await applyInfobipContacts(db, {
      contacts: [contact(nameless, { firstName: null, lastName: null })],
      mode: 'create_update',
      dryRun: false,
      now: at(1),
    });
    expect((await findLeadByPhone(db, nameless))?.name).toBe(`Infobip contact ${nameless.slice(-4)}`);
  });

  it('handles a page of 1,000 contacts in one transaction: half matched and updated, half created', async () => {
    const phones = Array.from({ length: 1_000 }, nextPhone);
    for (const phone of phones.slice(0, 500)) await createLead(db, { name: 'Bulk', phone });
    const outcome = await withTransaction(db, (tx) =>
      applyInfobipContacts(tx, {
        contacts: phones.map((phone) => contact(phone)),
        mode: 'create_update',
        dryRun: false,
        now: at(2),
      }),
    );
    expect(outcome).toMatchObject({ matched: 500, updated: 500, created: 500, skipped: 0 });
    expect(await findLeadByPhone(db, phones[0]!)).toMatchObject({
      lastContactedAt: at(0),
      lastSyncedAt: at(2),
      lastChannel: 'whatsapp',
    });
    expect(await findLeadByPhone(db, phones[999]!)).toMatchObject({ source: 'infobip', lastSyncedAt: at(2) });
  });
});

describe('Infobip sync runs and pages', () => {
  const page = (runId: number, pageNo: number, fetched: number, errors = 0) => ({
    runId,
    source: 'people' as const,
    pageNo,
    fetched,
    matched: 1,
    created: fetched - 1 - errors,
    updated: 1,
    skipped: 0,
    invalid: errors,
    errors: Array.from({ length: errors }, (_, i) => ({ record: `person ${pageNo}-${i}`, message: 'invalid phone' })),
    preview: null,
    completedAt: at(0),
  });

  it('a page written again replaces its row, so the run totals count it once', async () => {
    const run = await newRun();
    await upsertInfobipSyncPage(db, page(run.id, 1, 10, 2));
    await upsertInfobipSyncPage(db, page(run.id, 2, 10));
    await upsertInfobipSyncPage(db, page(run.id, 2, 10));

    expect(await sumInfobipSyncPages(db, run.id)).toEqual({
      fetched: 20,
      matched: 2,
      created: 16,
      updated: 2,
      skipped: 0,
      invalid: 2,
      errorCount: 2,
    });
    expect(await finishInfobipSyncRun(db, run.id, { status: 'completed', finishedAt: at(5) })).toBe(true);
    expect(await finishInfobipSyncRun(db, run.id, { status: 'failed', failure: 'late', finishedAt: at(6) })).toBe(
      false,
    );

    const detail = await getInfobipSyncRun(db, run.id);
    expect(detail).toMatchObject({
      status: 'completed',
      fetched: 20,
      invalid: 2,
      errorCount: 2,
      failure: null,
      pages: 2,
      preview: null,
    });
    expect(detail?.errors).toEqual([
      { record: 'person 1-0', message: 'invalid phone' },
      { record: 'person 1-1', message: 'invalid phone' },
    ]);
  });

  it('the same run key finds the run already recorded instead of creating a second', async () => {
    const run = await newRun();
    const again = await createInfobipSyncRun(db, {
      runKey: run.runKey,
      workflowId: 'other',
      trigger: 'cli',
      options: {},
      dryRun: true,
      windowFrom: at(0),
      windowTo: at(1),
      startedAt: at(1),
    });
    expect(again).toEqual({ run, created: false });
  });

  it('last success is the window end of the latest completed run that was not a dry run', async () => {
    const completed = await newRun({ windowTo: at(100) });
    await finishInfobipSyncRun(db, completed.id, { status: 'completed', finishedAt: at(101) });
    const dry = await newRun({ dryRun: true, windowTo: at(200) });
    await finishInfobipSyncRun(db, dry.id, { status: 'completed', finishedAt: at(201) });
    const failed = await newRun({ windowTo: at(300) });
    await finishInfobipSyncRun(db, failed.id, { status: 'failed', failure: 'boom', finishedAt: at(301) });
    await newRun({ windowTo: at(400) });

    expect(await getLastInfobipSyncSuccess(db)).toEqual(at(100));
  });

  it('the last scheduled success counts only runs the schedule started, whatever manual runs completed since', async () => {
    expect(await getLastInfobipSyncSuccess(db, { trigger: 'schedule' })).toBeNull();
    const scheduled = await newRun({ trigger: 'schedule', windowTo: at(50) });
    await finishInfobipSyncRun(db, scheduled.id, { status: 'completed', finishedAt: at(51) });
    const manual = await newRun({ trigger: 'api', windowTo: at(150) });
    await finishInfobipSyncRun(db, manual.id, { status: 'completed', finishedAt: at(151) });

    expect(await getLastInfobipSyncSuccess(db, { trigger: 'schedule' })).toEqual(at(50));
    expect(await getLastInfobipSyncSuccess(db)).toEqual(at(150));
  });

  it('lists runs newest first, filtered by status', async () => {
    const { items, total } = await listInfobipSyncRuns(db, { page: 1, pageSize: 2, status: 'failed' });
    expect(total).toBe(1);
    expect(items.map((run) => [run.status, run.failure])).toEqual([['failed', 'boom']]);
    const all = await listInfobipSyncRuns(db, { page: 1, pageSize: 3 });
    expect(all.items.map((run) => run.id)).toEqual([...all.items.map((run) => run.id)].sort((a, b) => b - a));
  });
});
