import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import {
  archiveTemplate,
  getLead,
  listAssignmentEvents,
  listMessages,
  updateLead,
  updateTemplate,
} from '../../src/db/queries';
import { cancelDripSignal, pauseDripSignal, resumeDripSignal } from '../../src/drips/contract';
import { createTestDb } from '../support/db';
import { DAY, startDrip, startDripHarness, step, waitFor, type DripHarness } from '../support/drip-harness';
import { createTimeSkippingEnv } from '../support/temporal';
import { seedTemplates } from '../support/templates';

/**
 * Drip workflows on the time-skipping test server: multi-day delays pass in seconds, while the
 * worker, the database file and the provider emulator (over HTTP) are real.
 */
describe('drip workflow (time skipping)', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let harness: DripHarness;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    db = await createTestDb();
    harness = await startDripHarness({ db, connection: env.nativeConnection, namespace: env.namespace ?? 'default' });
  });

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    await db?.close();
  });

  const sentTo = (phone: string) => harness.accepted().filter((message) => message.phone === phone);

  it('sends every step of a drip whose delays are days long, in order, with the lead name as {{1}}', async () => {
    const startedAt = await env.currentTimeMs();
    const drip = await startDrip(
      db,
      env.client,
      harness,
      [step('drip_day_1', 0), step('drip_day_2', 2 * DAY), step('drip_day_3', 3 * DAY)],
      {
        name: 'Asha Rao',
      },
    );

    const result = await drip.handle.result();

    expect(result.status).toBe('completed');
    expect((await env.currentTimeMs()) - startedAt).toBeGreaterThanOrEqual(5 * DAY * 1000);
    const messages = sentTo(drip.lead.phone);
    expect(messages.map((message) => message.template.name)).toEqual(['drip_day_1', 'drip_day_2', 'drip_day_3']);
    expect(messages.every((message) => message.bodyValues[0] === 'Asha Rao')).toBe(true);
    expect(messages.map((message) => message.callbackData)).toEqual(
      [0, 1, 2].map((i) => `${drip.handle.workflowId}:${i}`),
    );

    const assignment = await drip.assignment();
    expect(assignment).toMatchObject({ status: 'completed', nextStep: 3, nextSendAt: null });
    const log = await listMessages(db, {
      referenceType: 'drip',
      referenceId: String(drip.assignmentId),
      page: 1,
      pageSize: 10,
    });
    expect(log.items.map((row) => row.status)).toEqual(['sent', 'sent', 'sent']);
    const lastSentAt = Math.max(...log.items.map((row) => row.sentAt!.getTime()));
    expect((await getLead(db, drip.lead.id))?.lastContactedAt?.getTime()).toBe(lastSentAt);
  });

  it('records the next send time of each step in LeadDripAssignment while the drip sleeps', async () => {
    const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', 2 * DAY)]);
    await waitFor(() => sentTo(drip.lead.phone).length === 1, 'the first step');
    const sleeping = await waitFor(async () => {
      const row = await drip.assignment();
      return row?.nextStep === 1 && row.nextSendAt ? row : null;
    }, 'progress after step 1');
    const now = await env.currentTimeMs();
    expect(sleeping.status).toBe('active');
    expect(sleeping.nextSendAt!.getTime() - now).toBeGreaterThan(DAY * 1000);
    await drip.handle.result();
  });

  it('holds the next step while paused, for days, and continues after resume', async () => {
    const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY)]);
    await waitFor(() => sentTo(drip.lead.phone).length === 1, 'the first step');

    await drip.handle.signal(pauseDripSignal);
    await waitFor(async () => (await drip.assignment())?.status === 'paused', 'paused status');
    await env.sleep('3 days');
    expect(sentTo(drip.lead.phone)).toHaveLength(1);

    await drip.handle.signal(resumeDripSignal);
    const result = await drip.handle.result();

    expect(result.status).toBe('completed');
    expect(sentTo(drip.lead.phone).map((message) => message.template.name)).toEqual(['drip_day_1', 'drip_day_2']);
    const events = (await listAssignmentEvents(db, drip.assignmentId)).map((event) => event.event);
    expect(events).toEqual(['started', 'step_sent', 'paused', 'resumed', 'step_sent', 'completed']);
  });

  it('stops on cancel before the next send', async () => {
    const drip = await startDrip(db, env.client, harness, [
      step('drip_day_1', 0),
      step('drip_day_2', DAY),
      step('drip_day_3', DAY),
    ]);
    await waitFor(() => sentTo(drip.lead.phone).length === 1, 'the first step');

    await drip.handle.signal(cancelDripSignal, { reason: 'admin' });
    const result = await drip.handle.result();

    expect(result).toMatchObject({ status: 'cancelled', stopReason: 'admin', nextStep: 1 });
    await env.sleep('3 days');
    expect(sentTo(drip.lead.phone)).toHaveLength(1);
    expect(await drip.assignment()).toMatchObject({ status: 'cancelled', stopReason: 'admin' });
  });

  it('stops a running drip when its lead opts out, without sending the next step', async () => {
    const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY)]);
    await waitFor(() => sentTo(drip.lead.phone).length === 1, 'the first step');

    await updateLead(db, drip.lead.id, { optedOut: true });
    const result = await drip.handle.result();

    expect(result).toMatchObject({ status: 'cancelled', stopReason: 'opted_out' });
    expect(sentTo(drip.lead.phone)).toHaveLength(1);
    expect((await getLead(db, drip.lead.id))?.optedOut).toBe(true);
  });

  it('sends once when the provider answers 5xx and then succeeds', async () => {
    const phone = '+919812340001';
    harness.emulator.emulator.state.injectFault({ kind: 'http_5xx', status: 503, times: 2, match: { phone } });

    const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0)], { phone });
    const result = await drip.handle.result();

    expect(result.status).toBe('completed');
    expect(sentTo(phone)).toHaveLength(1);
    const attempts = harness.emulator.emulator.state
      .requests()
      .filter(
        (request) =>
          request.path.startsWith('/v1/public/message') &&
          (request.body as { phoneNumber?: string }).phoneNumber === phone.slice(3),
      );
    expect(attempts.map((request) => request.responseStatus)).toEqual([503, 503, 201]);
    const log = await listMessages(db, {
      referenceType: 'drip',
      referenceId: String(drip.assignmentId),
      page: 1,
      pageSize: 10,
    });
    expect(log.items).toHaveLength(1);
    expect(log.items[0]).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('retries after a 429 and sends once', async () => {
    const phone = '+919812340002';
    harness.emulator.emulator.state.injectFault({ kind: 'rate_limit', retryAfterSeconds: 30, match: { phone } });

    const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0)], { phone });

    expect((await drip.handle.result()).status).toBe('completed');
    expect(sentTo(phone)).toHaveLength(1);
  });

  it('fails a step whose lead lacks a mapped field, with the reason in the message log, and sends nothing', async () => {
    const phone = '+919812340004';
    const drip = await startDrip(
      db,
      env.client,
      harness,
      [
        {
          templateName: 'drip_day_1',
          templateLanguage: 'en',
          delaySeconds: 0,
          variables: { body: [{ field: 'email' }] },
        },
      ],
      { phone },
    );

    const result = await drip.handle.result();

    expect(result.status).toBe('failed');
    expect(result.lastError).toContain('lead field "email" is empty');
    expect(sentTo(phone)).toHaveLength(0);
    const log = await listMessages(db, {
      referenceType: 'drip',
      referenceId: String(drip.assignmentId),
      page: 1,
      pageSize: 10,
    });
    expect(log.items).toHaveLength(1);
    expect(log.items[0]).toMatchObject({ status: 'failed', errorCode: 'missing_variable' });
  });

  it('fails the step once, with the provider reason recorded, on a permanent error', async () => {
    const phone = '+919812340003';
    const reason = 'Please correct the following error - Recipient is not a valid WhatsApp user';
    harness.emulator.emulator.state.injectFault({ kind: 'permanent', message: reason, match: { phone } });

    const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY)], { phone });
    const result = await drip.handle.result();

    expect(result.status).toBe('failed');
    expect(result.lastError).toContain('Recipient is not a valid WhatsApp user');
    const sendRequests = harness.emulator.emulator.state
      .requests()
      .filter(
        (request) =>
          request.path.startsWith('/v1/public/message') &&
          (request.body as { phoneNumber?: string }).phoneNumber === phone.slice(3),
      );
    expect(sendRequests).toHaveLength(1);
    const assignment = await drip.assignment();
    expect(assignment).toMatchObject({ status: 'failed', nextStep: 0 });
    expect(assignment?.lastError).toContain('Recipient is not a valid WhatsApp user');
    const log = await listMessages(db, {
      referenceType: 'drip',
      referenceId: String(drip.assignmentId),
      page: 1,
      pageSize: 10,
    });
    expect(log.items).toHaveLength(1);
    expect(log.items[0]).toMatchObject({ status: 'failed' });
    expect(log.items[0]?.errorMessage).toContain('Recipient is not a valid WhatsApp user');
  });

  /** A template both the emulator and Message Master know and approve, so only our own check can stop it. */
  async function approvedEverywhere(name: string) {
    const template = { name, language: 'en', body: 'Hi {{1}}, one more thing.' };
    harness.emulator.emulator.state.upsertTemplate(template);
    const [seeded] = await seedTemplates(db, [template]);
    return seeded!;
  }
  const sendRequestsTo = (phone: string) =>
    harness.emulator.emulator.state
      .requests()
      .filter(
        (request) =>
          request.path.startsWith('/v1/public/message') &&
          (request.body as { phoneNumber?: string }).phoneNumber === phone.slice(3),
      );

  it('fails a step whose template was archived after the drip started: once, template_not_usable on record, nothing sent', async () => {
    const template = await approvedEverywhere('drip_archived_tip');
    const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_archived_tip', DAY)]);
    await waitFor(() => sentTo(drip.lead.phone).length === 1, 'the first step');

    await archiveTemplate(db, template.id);
    const result = await drip.handle.result();

    expect(result).toMatchObject({ status: 'failed', nextStep: 1 });
    expect(result.lastError).toContain('template drip_archived_tip (en) is archived');
    expect(sendRequestsTo(drip.lead.phone)).toHaveLength(1);
    const log = await listMessages(db, {
      referenceType: 'drip',
      referenceId: String(drip.assignmentId),
      page: 1,
      pageSize: 10,
      order: 'asc',
    });
    expect(log.items.map((row) => [row.templateName, row.status, row.errorCode])).toEqual([
      ['drip_day_1', 'sent', null],
      ['drip_archived_tip', 'failed', 'template_not_usable'],
    ]);
    expect(log.items[1]).toMatchObject({
      attempts: 0,
      errorMessage: 'template drip_archived_tip (en) is archived; archived templates cannot be sent',
    });
    const events = (await listAssignmentEvents(db, drip.assignmentId)).map((event) => event.event);
    expect(events).toEqual(['started', 'step_sent', 'step_failed']);
  });

  it('fails a step whose template lost its approval after the sequence was defined, without calling the provider', async () => {
    const template = await approvedEverywhere('drip_revoked_tip');
    const drip = await startDrip(db, env.client, harness, [step('drip_revoked_tip', DAY)]);

    await updateTemplate(db, template.id, { approvalStatus: 'Paused' });
    const result = await drip.handle.result();

    expect(result.status).toBe('failed');
    expect(result.lastError).toContain('template drip_revoked_tip (en) is Paused; only approved templates can be sent');
    expect(sendRequestsTo(drip.lead.phone)).toEqual([]);
    const log = await listMessages(db, {
      referenceType: 'drip',
      referenceId: String(drip.assignmentId),
      page: 1,
      pageSize: 10,
    });
    expect(log.items).toHaveLength(1);
    expect(log.items[0]).toMatchObject({ status: 'failed', errorCode: 'template_not_usable', attempts: 0 });
  });
});
