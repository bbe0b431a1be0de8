/**
 * Follow-ups that respect the lead, on the time-skipping test server: the API (HTTP), a real worker
 * pair, the SQLite file and the Interakt emulator posting signed webhooks back. Send times are the
 * workflow's own (workflow time), recorded with each `step_sent` event; the emulator and the
 * database only see the real clock.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import type { Db } from '../../src/db/client';
import {
  createApiKey,
  getLead,
  getMessageByKey,
  listAssignmentEvents,
  listLeadNotes,
  type Assignment,
} from '../../src/db/queries';
import { campaignSendKey, campaignWorkflowId } from '../../src/campaigns/contract';
import { claimSendSlot } from '../../src/delivery/rules';
import { dripProgressQuery, dripWorkflowId, type DripProgress } from '../../src/drips/contract';
import { localTime, zonedInstant } from '../../src/delivery/contract';
import { sendIdempotencyKey, sendTaskQueue } from '../../src/shared';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { DAY, nextPhone, startDripHarness, waitFor, type DripHarness } from '../support/drip-harness';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { silentLogger } from '../support/logs';

const WEBHOOK_SECRET = 'test-webhook-secret';
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];
const NINE_TO_EIGHT = { days: EVERY_DAY, start: '09:00', end: '20:00' };
const HOUR_MS = 3_600_000;

describe('drips that respect the lead (time skipping)', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let harness: DripHarness;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  const taskQueue = uniqueTaskQueue('rules');

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    db = await createTestDb();
    api = await listen(
      createApp({
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        defaultCountry: 'IN',
        interaktWebhookSecret: WEBHOOK_SECRET,
        log: silentLogger(),
      }),
    );
    harness = await startDripHarness({
      db,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      webhookUrl: `${api.url}/webhooks/interakt`,
      webhookSecret: WEBHOOK_SECRET,
    });
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
    expect(
      (
        await request('PUT', '/settings/delivery', {
          defaultTimeZone: 'UTC',
          window: NINE_TO_EIGHT,
          frequencyCap: null,
        })
      ).status,
    ).toBe(200);
  });

  afterAll(async () => {
    await harness?.stop();
    await api?.close();
    await env?.teardown();
    await db?.close();
  });

  const createLead = async (fields: { timeZone?: string; phone?: string } = {}) => {
    const response = await request('POST', '/leads', {
      name: 'Asha Rao',
      phone: fields.phone ?? nextPhone(),
      ...fields,
    });
    expect(response.status).toBe(201);
    return response.body as { id: number; phone: string };
  };

  const createSequence = async (delaysSeconds: number[], sendRules?: Record<string, unknown>) => {
    const response = await request('POST', '/sequences', {
      name: `rules-${Math.random()}`,
      ...(sendRules && { sendRules }),
      steps: delaysSeconds.map((delaySeconds, i) => ({
        templateName: `drip_day_${(i % 3) + 1}`,
        templateLanguage: 'en',
        delaySeconds,
        variables: { body: [{ field: 'name' }] },
      })),
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { id: number };
  };

  const enrol = async (sequenceId: number, leadId: number) => {
    const response = await request('POST', `/sequences/${sequenceId}/assignments`, { leadIds: [leadId] });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    const assignmentId = response.body.assignments[0].assignmentId as number;
    return { assignmentId, handle: env.client.workflow.getHandle(dripWorkflowId(assignmentId)) };
  };

  /** Workflow time of each step sent, from the `step_sent` events the workflow recorded. */
  const sentTimes = async (assignmentId: number) =>
    (await listAssignmentEvents(db, assignmentId))
      .filter((event) => event.event === 'step_sent')
      .map((event) => Date.parse(/sent at (\S+)/.exec(event.detail ?? '')![1]!));

  const minute = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString();
  const assignmentRow = async (id: number) => (await request('GET', `/assignments/${id}`)).body as Assignment;

  it('sends a step due at 02:00 in Kolkata at 09:00 Kolkata time, the zone read from the +91 phone', async () => {
    const now = await env.currentTimeMs();
    const today = localTime(now, 'Asia/Kolkata');
    // 02:00 IST two days from now.
    const dueAt = zonedInstant('Asia/Kolkata', today.year, today.month, today.day, 2 * 60) + 2 * DAY * 1000;
    const lead = await createLead();
    const sequence = await createSequence([Math.round((dueAt - now) / 1000)]);

    const drip = await enrol(sequence.id, lead.id);
    expect((await drip.handle.result()).status).toBe('completed');

    const [sentAt] = await sentTimes(drip.assignmentId);
    const local = localTime(sentAt!, 'Asia/Kolkata');
    expect([local.hour, local.minute]).toEqual([9, 0]);
    expect(minute(sentAt!)).toBe(minute(dueAt + 7 * HOUR_MS));
  });

  it('opens the window at 09:00 New York time on both sides of the March daylight-saving change', async () => {
    const now = await env.currentTimeMs();
    // The second Sunday of the next March: 02:00 EST jumps to 03:00 EDT.
    const year = localTime(now, 'America/New_York').year + 1;
    const firstOfMarch = new Date(Date.UTC(year, 2, 1)).getUTCDay();
    const changeDay = 1 + ((7 - firstOfMarch) % 7) + 7;
    const saturday2am = zonedInstant('America/New_York', year, 3, changeDay - 1, 2 * 60);
    const lead = await createLead({ timeZone: 'America/New_York' });
    const sequence = await createSequence([
      Math.round((saturday2am - now) / 1000),
      // From Saturday's 09:00 EST send to 01:00 EST on Sunday, before the change.
      16 * 3600,
    ]);

    const drip = await enrol(sequence.id, lead.id);
    expect((await drip.handle.result()).status).toBe('completed');

    const sent = await sentTimes(drip.assignmentId);
    const saturday9am = zonedInstant('America/New_York', year, 3, changeDay - 1, 9 * 60);
    const sunday9am = zonedInstant('America/New_York', year, 3, changeDay, 9 * 60);
    expect(sent.map(minute)).toEqual([minute(saturday9am), minute(sunday9am)]);
    // 09:00 EST is 14:00 UTC; 09:00 EDT, after the change, is 13:00 UTC.
    expect(new Date(saturday9am).getUTCHours()).toBe(14);
    expect(new Date(sunday9am).getUTCHours()).toBe(13);
  });

  it('lets two drips racing for a cap of 1 per 24 h send exactly one message that day; the other waits a day', async () => {
    expect(
      (await request('PUT', '/settings/delivery', { frequencyCap: { max: 1, periodSeconds: 24 * 3600 }, window: null }))
        .status,
    ).toBe(200);
    try {
      const lead = await createLead();
      const [first, second] = [await createSequence([3600]), await createSequence([3600])];
      const drips = [await enrol(first.id, lead.id), await enrol(second.id, lead.id)];
      // One result() at a time: each unlocks the test server's time skipping while it waits.
      for (const drip of drips) await drip.handle.result();

      const sent = [...(await sentTimes(drips[0]!.assignmentId)), ...(await sentTimes(drips[1]!.assignmentId))].sort(
        (a, b) => a - b,
      );
      expect(sent).toHaveLength(2);
      expect(sent[1]! - sent[0]!).toBeGreaterThanOrEqual(24 * HOUR_MS);
      const events = [
        ...(await listAssignmentEvents(db, drips[0]!.assignmentId)),
        ...(await listAssignmentEvents(db, drips[1]!.assignmentId)),
      ];
      expect(events.filter((event) => event.detail?.startsWith('frequency cap'))).toHaveLength(1);
      expect(harness.accepted().filter((message) => message.phone === lead.phone)).toHaveLength(2);
    } finally {
      await request('PUT', '/settings/delivery', { frequencyCap: null, window: NINE_TO_EIGHT });
    }
  });

  /** Starts a campaign of drip_day_1 to these leads now; its handle's result() waits for its end. */
  const runCampaign = async (leadIds: number[]) => {
    const created = await request('POST', '/campaigns', {
      name: `rules-campaign-${Math.random()}`,
      templateName: 'drip_day_1',
      variables: { body: [{ field: 'name' }] },
      audience: { leadIds },
      start: true,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as number;
    const handle = env.client.workflow.getHandle(campaignWorkflowId(id));
    return { id, handle };
  };
  const recipientsOf = async (campaignId: number) =>
    (
      (await request('GET', `/campaigns/${campaignId}/recipients`)).body.items as {
        leadId: number;
        status: string;
        reason: string | null;
      }[]
    ).map((r) => [r.leadId, r.status, r.reason]);

  it('lets two drips and a campaign racing for a cap of 1 per 24 h send exactly one message that day', async () => {
    expect(
      (await request('PUT', '/settings/delivery', { frequencyCap: { max: 1, periodSeconds: 24 * 3600 }, window: null }))
        .status,
    ).toBe(200);
    try {
      const lead = await createLead();
      const [first, second] = [await createSequence([0]), await createSequence([0])];
      const campaign = await runCampaign([lead.id]);
      const drips = [await enrol(first.id, lead.id), await enrol(second.id, lead.id)];
      await campaign.handle.result();
      for (const drip of drips) await drip.handle.result();

      const campaignMessage = await getMessageByKey(db, campaignSendKey(campaign.id, lead.id));
      const campaignSent = campaignMessage?.status !== undefined && campaignMessage.status !== 'pending';
      const [[, status, reason]] = (await recipientsOf(campaign.id)) as [[number, string, string | null]];
      // Whichever claimed the slot first went; the campaign, if it lost, was skipped, not deferred.
      expect([status, reason]).toEqual(campaignSent ? ['sent', null] : ['skipped', 'frequency_capped']);
      const sent = [
        ...(await sentTimes(drips[0]!.assignmentId)),
        ...(await sentTimes(drips[1]!.assignmentId)),
        ...(campaignSent ? [(campaignMessage!.sentAt ?? campaignMessage!.createdAt).getTime()] : []),
      ].sort((a, b) => a - b);
      expect(sent).toHaveLength(campaignSent ? 3 : 2);
      for (let i = 1; i < sent.length; i++) expect(sent[i]! - sent[i - 1]!).toBeGreaterThanOrEqual(24 * HOUR_MS);
      expect(harness.accepted().filter((message) => message.phone === lead.phone)).toHaveLength(sent.length);
    } finally {
      await request('PUT', '/settings/delivery', { frequencyCap: null, window: NINE_TO_EIGHT });
    }
  });

  it('skips a capped campaign recipient with reason frequency_capped and sends to the others', async () => {
    const cap = { max: 1, periodSeconds: 24 * 3600 };
    expect((await request('PUT', '/settings/delivery', { frequencyCap: cap, window: null })).status).toBe(200);
    try {
      const [capped, free] = [await createLead(), await createLead()];
      expect(await claimSendSlot(db, { leadId: capped.id, claimKey: 'earlier-send', at: new Date(), cap })).toEqual({
        claimed: true,
      });
      const campaign = await runCampaign([capped.id, free.id]);
      await campaign.handle.result();

      expect(await recipientsOf(campaign.id)).toEqual([
        [capped.id, 'skipped', 'frequency_capped'],
        [free.id, 'sent', null],
      ]);
      expect(harness.accepted().filter((message) => message.phone === capped.phone)).toHaveLength(0);
      expect(harness.accepted().filter((message) => message.phone === free.phone)).toHaveLength(1);
    } finally {
      await request('PUT', '/settings/delivery', { frequencyCap: null, window: NINE_TO_EIGHT });
    }
  });

  it('skips a campaign recipient outside the account window with reason outside_window', async () => {
    const lead = await createLead({ timeZone: 'UTC' });
    // The campaign's send activity reads the window at the real time, not at the time-skipping
    // server's, which earlier tests here have moved on by an amount that depends on the time of
    // day the suite runs (with the server's hour, a run at 17:00 UTC put the send inside).
    const hour = new Date().getUTCHours();
    // A one-hour window that the campaign's send (now, to the hour) is not in.
    const start = `${String((hour + 3) % 24).padStart(2, '0')}:00`;
    const end = `${String((hour + 4) % 24).padStart(2, '0')}:00`;
    const window = { days: EVERY_DAY, start, end };
    expect((await request('PUT', '/settings/delivery', { window })).status).toBe(200);
    try {
      const campaign = await runCampaign([lead.id]);
      await campaign.handle.result();
      expect(await recipientsOf(campaign.id)).toEqual([[lead.id, 'skipped', 'outside_window']]);
      expect(harness.accepted().filter((message) => message.phone === lead.phone)).toHaveLength(0);
    } finally {
      await request('PUT', '/settings/delivery', { window: NINE_TO_EIGHT });
    }
  });

  it('skips the campaign send of a lead who sent STOP after the campaign was created, with reason opted_out', async () => {
    const lead = await createLead();
    await request('PUT', '/settings/delivery', { window: null });
    try {
      const created = await request('POST', '/campaigns', {
        name: `rules-campaign-${Math.random()}`,
        templateName: 'drip_day_1',
        variables: { body: [{ field: 'name' }] },
        audience: { leadIds: [lead.id] },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      await harness.emulator.emulator.state.deliverInbound(lead.phone, 'STOP');
      await waitFor(async () => (await getLead(db, lead.id))?.optedOut === true, 'opted out');

      expect((await request('POST', `/campaigns/${created.body.id}/start`, {})).status).toBe(202);
      await env.client.workflow.getHandle(campaignWorkflowId(created.body.id)).result();
      expect(await recipientsOf(created.body.id)).toEqual([[lead.id, 'skipped', 'opted_out']]);
      expect(harness.accepted().filter((message) => message.phone === lead.phone)).toHaveLength(0);
    } finally {
      await request('PUT', '/settings/delivery', { window: NINE_TO_EIGHT });
    }
  });

  it('ends a drip mid-delay when the lead’s stage becomes Won, before its next send', async () => {
    const lead = await createLead({ timeZone: 'UTC' });
    const sequence = await createSequence([0, 2 * DAY, 2 * DAY], { window: null, exitStatuses: ['Won', 'Lost'] });
    const drip = await enrol(sequence.id, lead.id);
    await waitFor(async () => (await assignmentRow(drip.assignmentId)).nextStep === 1, 'the first step');
    const midDelay = await env.currentTimeMs();

    expect((await request('PATCH', `/leads/${lead.id}`, { stage: 'Won' })).status).toBe(200);
    const result = await drip.handle.result();

    expect(result).toMatchObject({ status: 'cancelled', stopReason: 'exit_status', nextStep: 1 });
    // Ended by the update, not by the 2-day timer: the run closed before the next step was due.
    const closedAt = (await drip.handle.describe()).closeTime!.getTime();
    expect(closedAt - midDelay).toBeLessThan(2 * DAY * 1000);
    expect(harness.accepted().filter((message) => message.phone === lead.phone)).toHaveLength(1);
  });

  it('opts out on "sToP!!" (any case, punctuation), stops every drip, and opts back in on START', async () => {
    const lead = await createLead();
    const [first, second] = [await createSequence([0, DAY], { window: null }), await createSequence([DAY])];
    const drips = [await enrol(first.id, lead.id), await enrol(second.id, lead.id)];
    await waitFor(async () => (await assignmentRow(drips[0]!.assignmentId)).nextStep === 1, 'the first step');

    await harness.emulator.emulator.state.deliverInbound(lead.phone, '  sToP!! ');
    const results: DripProgress[] = [];
    for (const drip of drips) results.push(await drip.handle.result());

    expect(results.map((result) => [result.status, result.stopReason])).toEqual([
      ['cancelled', 'opted_out'],
      ['cancelled', 'opted_out'],
    ]);
    expect((await getLead(db, lead.id))?.optedOut).toBe(true);
    expect(harness.accepted().filter((message) => message.phone === lead.phone)).toHaveLength(1);

    await harness.emulator.emulator.state.deliverInbound(lead.phone, 'START');
    await waitFor(async () => (await getLead(db, lead.id))?.optedOut === false, 'opted back in');
    const notes = (await listLeadNotes(db, lead.id)).filter((note) => note.source === 'keyword');
    expect(notes.map((note) => note.body)).toEqual([
      expect.stringContaining('Opted out by keyword'),
      'Opted back in by keyword',
    ]);
  });

  it('retries a failed step without sending it again when the provider had in fact accepted it', async () => {
    const lead = await createLead({ timeZone: 'UTC' });
    const sequence = await createSequence([0, DAY], { window: null });
    const state = harness.emulator.emulator.state;
    // The first attempt is accepted but answered too late (our timeout: outcome unknown), the next
    // is refused: the step fails, and only later does the provider's webhook say the first went out.
    state.configureWebhooks({ autoWebhooks: false });
    let workflowId: string;
    try {
      state.injectFault({ kind: 'accept_then_timeout', ms: 2_500, match: { phone: lead.phone } });
      state.injectFault({ kind: 'permanent', match: { phone: lead.phone } });
      const drip = await enrol(sequence.id, lead.id);
      workflowId = drip.handle.workflowId;
      expect((await drip.handle.result()).status).toBe('failed');
      const [accepted] = harness.accepted().filter((message) => message.phone === lead.phone);
      const key = sendIdempotencyKey(drip.handle.workflowId, 0);
      expect(accepted?.callbackData).toBe(key);

      await state.deliverWebhook(accepted!.id, 'message_api_delivered');
      await waitFor(async () => (await getMessageByKey(db, key))?.status === 'delivered', 'the late webhook');

      const retry = await request('POST', `/assignments/${drip.assignmentId}/retry`);
      expect(retry.status, JSON.stringify(retry.body)).toBe(202);
      expect(retry.body).toMatchObject({ retriedStep: 0, previousMessageStatus: 'delivered' });
      const rerun = env.client.workflow.getHandle(drip.handle.workflowId);
      expect((await rerun.result()).status).toBe('completed');
    } finally {
      state.configureWebhooks({ autoWebhooks: true });
    }
    const toLead = harness.accepted().filter((message) => message.phone === lead.phone);
    expect(toLead.map((message) => message.callbackData)).toEqual([
      sendIdempotencyKey(workflowId, 0),
      sendIdempotencyKey(workflowId, 1),
    ]);
  });

  it('retries a step the provider refused: the same key is sent again, once', async () => {
    const lead = await createLead({ timeZone: 'UTC' });
    const sequence = await createSequence([0], { window: null });
    harness.emulator.emulator.state.injectFault({ kind: 'permanent', match: { phone: lead.phone } });
    const drip = await enrol(sequence.id, lead.id);
    expect((await drip.handle.result()).status).toBe('failed');

    const retry = await request('POST', `/assignments/${drip.assignmentId}/retry`);
    expect(retry.body).toMatchObject({ retriedStep: 0, previousMessageStatus: 'failed' });
    expect((await env.client.workflow.getHandle(drip.handle.workflowId).result()).status).toBe('completed');
    expect(harness.accepted().filter((message) => message.phone === lead.phone)).toHaveLength(1);
    expect((await request('POST', `/assignments/${drip.assignmentId}/retry`)).status).toBe(409);
  });

  it('snoozes and sends now through the update; the row, the live query and the send follow', async () => {
    const lead = await createLead({ timeZone: 'UTC' });
    const sequence = await createSequence([0, 2 * DAY, 2 * DAY], { transactional: true });
    const drip = await enrol(sequence.id, lead.id);
    const waiting = await waitFor(async () => {
      const row = await assignmentRow(drip.assignmentId);
      return row.nextStep === 1 && row.nextSendAt ? row : null;
    }, 'the first step');
    const planned = Date.parse(waiting.nextSendAt as unknown as string);

    const past = await request('POST', `/assignments/${drip.assignmentId}/schedule`, {
      action: 'move',
      at: new Date(planned - 10 * DAY * 1000).toISOString(),
    });
    expect(past.status).toBe(409);
    expect(past.body.error.code).toBe('reschedule_refused');

    const snooze = await request('POST', `/assignments/${drip.assignmentId}/schedule`, {
      action: 'snooze',
      seconds: DAY,
    });
    expect(snooze.status, JSON.stringify(snooze.body)).toBe(200);
    expect(Date.parse(snooze.body.nextSendAt)).toBe(planned + DAY * 1000);
    const live = await drip.handle.query(dripProgressQuery);
    const row = await assignmentRow(drip.assignmentId);
    expect([live.nextSendAt, new Date(row.nextSendAt as unknown as string).toISOString()]).toEqual([
      snooze.body.nextSendAt,
      snooze.body.nextSendAt,
    ]);

    // Let the snoozed step go (the server skips to it), then send the last one now.
    await env.sleep(Date.parse(snooze.body.nextSendAt) - (await env.currentTimeMs()) + 60_000);
    await waitFor(async () => (await assignmentRow(drip.assignmentId)).nextStep === 2, 'the snoozed step');
    const [, snoozedSentAt] = await sentTimes(drip.assignmentId);
    expect(minute(snoozedSentAt!)).toBe(minute(Date.parse(snooze.body.nextSendAt)));

    const now = await request('POST', `/assignments/${drip.assignmentId}/schedule`, { action: 'send_now' });
    expect(now.status, JSON.stringify(now.body)).toBe(200);
    const result: DripProgress = await drip.handle.result();
    expect(result.status).toBe('completed');
    const [, , lastSentAt] = await sentTimes(drip.assignmentId);
    expect(lastSentAt! - Date.parse(now.body.nextSendAt)).toBeLessThan(60_000);
    expect(lastSentAt! - snoozedSentAt!).toBeLessThan(2 * DAY * 1000);
  });

  it('previews the send times the workflow then sends at, window and weekends included', async () => {
    const lead = await createLead({ timeZone: 'Asia/Kolkata' });
    // Mon–Fri 09:00–10:00: every step lands on an opening, on a weekday.
    const sequence = await createSequence([5 * 3600, DAY, DAY, 2 * DAY, 3 * DAY], {
      window: { days: [1, 2, 3, 4, 5], start: '09:00', end: '10:00' },
    });
    const drip = await enrol(sequence.id, lead.id);
    const startedAt = (await drip.handle.describe()).startTime;

    const preview = await request(
      'GET',
      `/sequences/${sequence.id}/timeline?leadId=${lead.id}&from=${encodeURIComponent(startedAt.toISOString())}`,
    );
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body).toMatchObject({ timeZone: 'Asia/Kolkata', timeZoneSource: 'lead' });
    const planned = (preview.body.steps as { sendAt: string; localSendAt: string }[]).map((step) =>
      Date.parse(step.sendAt),
    );
    expect(
      (preview.body.steps as { localSendAt: string }[]).every((step) =>
        / 09:\d\d \((Mon|Tue|Wed|Thu|Fri)\)$/.test(step.localSendAt),
      ),
    ).toBe(true);

    expect((await drip.handle.result()).status).toBe('completed');
    expect((await sentTimes(drip.assignmentId)).map(minute)).toEqual(planned.map(minute));
  });
});
