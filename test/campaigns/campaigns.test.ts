/**
 * Campaigns end to end on the Temporal dev server: HTTP in, the `campaign-<id>` workflow paging its
 * recipients, sends through the rate-limited send queue to the Interakt emulator over HTTP, statuses
 * back by signed webhook. What the emulator accepted is the count of record.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import type { Db } from '../../src/db/client';
import { createApiKey, createLead, getMessageByKey, type Lead } from '../../src/db/queries';
import { campaignSendKey } from '../../src/campaigns/contract';
import { sendTaskQueue } from '../../src/shared';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { nextPhone, startDripHarness, waitFor, type DripHarness } from '../support/drip-harness';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { silentLogger } from '../support/logs';

const WEBHOOK_SECRET = 'test-webhook-secret';
/** Slow enough that a pause lands mid-send, fast enough for a test. */
const SENDS_PER_SECOND = 8;
const TEST_TIMEOUT_MS = 120_000;

describe('campaigns on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let harness: DripHarness;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  const taskQueue = uniqueTaskQueue('campaign');

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    const app = createApp({
      db,
      temporal: env.client,
      taskQueue,
      sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
      defaultCountry: 'IN',
      interaktWebhookSecret: WEBHOOK_SECRET,
      log: silentLogger(),
      campaigns: { pageSize: 10, maxInFlight: 4, sendMaxAttempts: 2 },
    });
    api = await listen(app);
    harness = await startDripHarness({
      db,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      webhookUrl: `${api.url}/webhooks/interakt`,
      webhookSecret: WEBHOOK_SECRET,
      autoWebhooks: false,
      sendsPerSecond: SENDS_PER_SECOND,
    });
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
  }, 60_000);

  afterAll(async () => {
    await harness?.stop();
    await api?.close();
    await env?.teardown();
    await db?.close();
  });

  const makeLeads = async (n: number, status: string) => {
    const leads: Lead[] = [];
    for (let i = 0; i < n; i++)
      leads.push(await createLead(db, { name: `${status} ${i}`, phone: nextPhone(), status }));
    return leads;
  };
  const acceptedFor = (campaignId: number) =>
    harness.accepted().filter((m) => m.callbackData?.startsWith(`campaign-${campaignId}:`));
  const waitForStatus = (id: number, status: string, timeoutMs = 60_000) =>
    waitFor(
      async () => (await request('GET', `/campaigns/${id}`)).body.status === status,
      `campaign ${status}`,
      timeoutMs,
    );
  const providerIdOf = async (campaignId: number, leadId: number) =>
    (await getMessageByKey(db, campaignSendKey(campaignId, leadId)))!.providerMessageId!;
  const waitForMessage = (campaignId: number, leadId: number, check: (m: Record<string, unknown>) => boolean) =>
    waitFor(async () => {
      const m = await getMessageByKey(db, campaignSendKey(campaignId, leadId));
      return m && check(m as unknown as Record<string, unknown>);
    }, `message of lead ${leadId}`);

  let reportCampaign: { id: number; sent: Lead[] };

  it(
    'sends once to each member of a segment, skips opted-out and suppressed leads with their reasons, and reports from the message log (a late webhook included)',
    async () => {
      const [a, b, c, optedOut, suppressed] = await makeLeads(5, 'SegmentCampaign');
      await db.orm.update(db.schema.clients).set({ optedOut: true }).where(eq(db.schema.clients.id, optedOut!.id));
      await db.orm
        .update(db.schema.clients)
        .set({ marketingSuppressedAt: new Date() })
        .where(eq(db.schema.clients.id, suppressed!.id));
      const segment = await request('POST', '/segments', {
        name: 'seg campaign',
        filter: { statuses: ['SegmentCampaign'] },
      });
      expect(segment.body.count.members).toBe(3);

      const created = await request('POST', '/campaigns', {
        name: 'Diwali offer',
        templateName: 'drip_day_1',
        variables: { body: [{ field: 'name' }] },
        audience: { segmentId: segment.body.id },
        start: true,
      });
      expect(created.status).toBe(201);
      const id = created.body.id as number;
      await waitForStatus(id, 'completed');

      const accepted = acceptedFor(id);
      expect(accepted.map((m) => m.callbackData).sort()).toEqual(
        [a!, b!, c!].map((lead) => campaignSendKey(id, lead.id)).sort(),
      );
      const campaign = (await request('GET', `/campaigns/${id}`)).body;
      expect(campaign.progress).toMatchObject({ total: 5, sent: 3, skipped: 2, failed: 0, pending: 0 });
      const skipped = (await request('GET', `/campaigns/${id}/recipients?outcome=skipped`)).body.items;
      expect(skipped.map((r: { leadId: number; reason: string }) => [r.leadId, r.reason])).toEqual([
        [optedOut!.id, 'opted_out'],
        [suppressed!.id, 'suppressed'],
      ]);

      // Statuses arrive by webhook: a delivered and read, b delivered, c nothing yet; a replies.
      const state = harness.emulator.emulator.state;
      await state.deliverWebhook(await providerIdOf(id, a!.id), 'message_api_delivered');
      await state.deliverWebhook(await providerIdOf(id, a!.id), 'message_api_read');
      await state.deliverWebhook(await providerIdOf(id, b!.id), 'message_api_delivered');
      await waitForMessage(id, a!.id, (m) => m.status === 'read');
      await waitForMessage(id, b!.id, (m) => m.status === 'delivered');
      await state.deliverInbound(a!.phone, 'Interested!');
      await waitFor(
        async () => (await request('GET', `/messages?leadId=${a!.id}&direction=incoming`)).body.total === 1,
        'reply stored',
      );

      let report = (await request('GET', `/campaigns/${id}/report`)).body;
      expect(report).toMatchObject({
        totalRecipients: 5,
        sent: 3,
        delivered: 2,
        read: 1,
        replied: 1,
        failed: 0,
        skipped: 2,
        skippedBy: expect.arrayContaining([
          { reason: 'opted_out', count: 1 },
          { reason: 'suppressed', count: 1 },
        ]),
        deliveryRate: 0.6667,
        readRate: 0.3333,
        replyRate: 0.3333,
      });

      // A late webhook: c's message failed after all. The report follows the log.
      await state.deliverWebhook(await providerIdOf(id, c!.id), 'message_api_failed', {
        failureReason: 'Message undeliverable',
        errorCode: '131026',
      });
      await waitForMessage(id, c!.id, (m) => m.status === 'failed');
      report = (await request('GET', `/campaigns/${id}/report`)).body;
      expect(report).toMatchObject({ sent: 2, delivered: 2, failed: 1 });
      expect(report.failedBy).toHaveLength(1);
      expect(report.failedBy[0].count).toBe(1);

      const csv = await fetch(`${api.url}/campaigns/${id}/recipients.csv?outcome=delivered_not_read`, {
        headers: { authorization: await authHeader() },
      });
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      const lines = (await csv.text()).trim().split('\n');
      expect(lines[0]).toMatch(/^leadId,status,/);
      expect(lines.slice(1).map((line) => Number(line.split(',')[0]))).toEqual([b!.id]);
      reportCampaign = { id, sent: [a!, b!, c!] };
    },
    TEST_TIMEOUT_MS,
  );

  let key: string;
  async function authHeader() {
    if (!key) {
      const generated = generateApiKey();
      await createApiKey(db, { name: 'csv', keyHash: generated.keyHash, keyPrefix: generated.keyPrefix });
      key = generated.key;
    }
    return `Bearer ${key}`;
  }

  it(
    'retargets a finished campaign at exactly the recipients with each outcome',
    async () => {
      const { id, sent } = reportCampaign;
      const [a, b, c] = sent;
      const leadsOf = async (outcome: string) => {
        const response = await request('POST', `/campaigns/${id}/retarget`, { outcome });
        return response.status === 201 ? response.body.leadIds : response.body.error.code;
      };
      expect(await leadsOf('delivered_not_read')).toEqual([b!.id]);
      expect(await leadsOf('failed')).toEqual([c!.id]);
      expect(await leadsOf('read_not_replied')).toBe('no_recipients');
      expect(await leadsOf('not_delivered')).toBe('no_recipients');
      const running = await request('POST', '/campaigns', {
        name: 'not finished',
        templateName: 'drip_day_1',
        variables: { body: [{ field: 'name' }] },
        audience: { leadIds: [a!.id] },
      });
      expect((await request('POST', `/campaigns/${running.body.id}/retarget`, { outcome: 'failed' })).status).toBe(409);

      // The retarget runs as its own campaign, keyed by its own id.
      const retarget = await request('POST', `/campaigns/${id}/retarget`, {
        outcome: 'delivered_not_read',
        name: 'nudge',
      });
      const started = await request('POST', `/campaigns/${retarget.body.id}/start`, {});
      expect(started.status).toBe(202);
      await waitForStatus(retarget.body.id, 'completed');
      expect(acceptedFor(retarget.body.id).map((m) => m.callbackData)).toEqual([
        campaignSendKey(retarget.body.id, b!.id),
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'pause holds, resume continues, cancel stops mid-send: nothing is sent twice',
    async () => {
      const leads = await makeLeads(60, 'PauseCampaign');
      const created = await request('POST', '/campaigns', {
        name: 'long one',
        templateName: 'drip_day_2',
        variables: { body: [{ field: 'name' }] },
        audience: { leadIds: leads.map((lead) => lead.id) },
        start: true,
      });
      const id = created.body.id as number;
      await waitFor(() => acceptedFor(id).length >= 5, 'first sends');
      expect((await request('POST', `/campaigns/${id}/pause`, {})).status).toBe(202);
      await waitForStatus(id, 'paused');
      const atPause = acceptedFor(id).length;
      expect(atPause).toBeLessThan(leads.length);
      // Held: nothing more goes out while paused (8/s would send 16 in these 2 s).
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(acceptedFor(id)).toHaveLength(atPause);
      const paused = (await request('GET', `/campaigns/${id}`)).body.progress;
      expect(paused.sent).toBe(atPause);

      expect((await request('POST', `/campaigns/${id}/resume`, {})).status).toBe(202);
      await waitFor(() => acceptedFor(id).length >= atPause + 5, 'sends after resume');
      expect((await request('POST', `/campaigns/${id}/cancel`, { reason: 'wrong template' })).status).toBe(202);
      await waitForStatus(id, 'cancelled');
      const atCancel = acceptedFor(id).length;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(acceptedFor(id)).toHaveLength(atCancel);
      expect(atCancel).toBeLessThan(leads.length);

      const keys = acceptedFor(id).map((m) => m.callbackData);
      expect(new Set(keys).size).toBe(keys.length);
      const campaign = (await request('GET', `/campaigns/${id}`)).body;
      expect(campaign).toMatchObject({ status: 'cancelled', stopReason: 'wrong template' });
      expect(campaign.progress.sent).toBe(atCancel);
      expect((await request('POST', `/campaigns/${id}/resume`, {})).status).toBe(409);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'retry sends again, under the same keys, only to recipients whose failure was not permanent',
    async () => {
      const [ok, refused, unreachable] = await makeLeads(3, 'RetryCampaign');
      const state = harness.emulator.emulator.state;
      state.injectFault({ kind: 'permanent', message: 'Invalid phone number', match: { phone: refused!.phone } });
      // Both attempts the campaign allows a send (sendMaxAttempts 2) meet a 503.
      state.injectFault({ kind: 'http_5xx', status: 503, times: 2, match: { phone: unreachable!.phone } });
      const created = await request('POST', '/campaigns', {
        name: 'retry me',
        templateName: 'drip_day_3',
        variables: { body: [{ field: 'name' }] },
        audience: { leadIds: [ok!.id, refused!.id, unreachable!.id] },
        start: true,
      });
      const id = created.body.id as number;
      await waitForStatus(id, 'completed', 90_000);
      const failed = (await request('GET', `/campaigns/${id}/recipients?outcome=failed`)).body.items;
      expect(failed.map((r: { leadId: number; failureKind: string }) => [r.leadId, r.failureKind])).toEqual([
        [refused!.id, 'permanent'],
        [unreachable!.id, 'transient'],
      ]);
      expect(acceptedFor(id).map((m) => m.callbackData)).toEqual([campaignSendKey(id, ok!.id)]);

      const retry = await request('POST', `/campaigns/${id}/retry`);
      expect(retry.status).toBe(202);
      expect(retry.body.requeued).toBe(1);
      await waitForStatus(id, 'completed');
      expect(
        acceptedFor(id)
          .map((m) => m.callbackData)
          .sort(),
      ).toEqual([campaignSendKey(id, ok!.id), campaignSendKey(id, unreachable!.id)].sort());
      const report = (await request('GET', `/campaigns/${id}/report`)).body;
      expect(report).toMatchObject({ sent: 2, failed: 1 });
      expect((await request('POST', `/campaigns/${id}/retry`)).body.error.code).toBe('nothing_to_retry');
    },
    TEST_TIMEOUT_MS,
  );

  it('refuses bad payloads with 400 and creates or starts nothing', async () => {
    const before = (await request('GET', '/campaigns')).body.total;
    const lead = (await makeLeads(1, 'BadPayload'))[0]!;
    const base = {
      name: 'bad',
      templateName: 'drip_day_1',
      variables: { body: [{ field: 'name' }] },
      audience: { leadIds: [lead.id] },
    };
    for (const body of [
      { ...base, templateName: 'Not A Template' },
      { ...base, templateName: 'no_such_template' },
      { ...base, variables: {} },
      { ...base, audience: {} },
      { ...base, audience: { leadIds: [] } },
      { ...base, audience: { segmentId: 999_999 } },
      { ...base, audience: { segmentId: 1, leadIds: [1] } },
      { ...base, scheduledAt: 'tomorrow' },
      { ...base, extra: true },
      { ...base, name: '' },
    ]) {
      const response = await request('POST', '/campaigns', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect((await request('POST', '/campaigns/1/retarget', { outcome: 'everyone' })).status).toBe(400);
    expect((await request('GET', '/campaigns/1/recipients?outcome=nobody')).status).toBe(400);
    expect((await request('GET', '/campaigns/1/report?replyWindowHours=0')).status).toBe(400);
    expect((await request('GET', '/campaigns')).body.total).toBe(before);
    expect(harness.accepted().filter((m) => m.phone === lead.phone)).toHaveLength(0);
  });
});
