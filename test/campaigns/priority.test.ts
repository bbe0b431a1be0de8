/**
 * Send priority on the dev server: one send queue, one server-enforced rate, and a welcome (a
 * transactional send) started while a campaign's backlog waits in the queue goes out before that
 * backlog has drained, where a first-come queue would have sent it last.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignWorkflowId } from '../../src/campaigns/contract';
import { startCampaign } from '../../src/campaigns/start';
import type { Db } from '../../src/db/client';
import { createCampaign, createLead } from '../../src/db/queries';
import { welcomeWorkflowId, type WelcomeWorkflowInput } from '../../src/welcome/contract';
import type { welcomeWorkflow } from '../../src/welcome/workflow';
import { createTestDb } from '../support/db';
import { nextPhone, startDripHarness, waitFor, type DripHarness } from '../support/drip-harness';
import { createDevServerEnv } from '../support/temporal';

/** Slow, so the backlog takes seconds to drain. */
const SENDS_PER_SECOND = 2;
const BACKLOG = 20;

describe('send priority', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let harness: DripHarness;

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    harness = await startDripHarness({
      db,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      sendsPerSecond: SENDS_PER_SECOND,
    });
  }, 60_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    await db?.close();
  });

  it('a welcome started behind a queued campaign backlog reaches the provider before the backlog drains', async () => {
    const leadIds: number[] = [];
    for (let i = 0; i < BACKLOG; i++) leadIds.push((await createLead(db, { name: `C ${i}`, phone: nextPhone() })).id);
    const campaign = await createCampaign(db, {
      name: 'backlog',
      templateName: 'drip_day_1',
      templateLanguage: 'en',
      variables: { body: [{ field: 'name' }] },
      leadIds,
    });
    // Every recipient's send is handed to the queue at once: a backlog of BACKLOG sends.
    await startCampaign(
      {
        db,
        temporal: env.client,
        taskQueue: harness.taskQueue,
        sendTaskQueue: harness.sendTaskQueue,
        campaigns: { pageSize: BACKLOG, maxInFlight: BACKLOG, sendMaxAttempts: 10 },
      },
      campaign.id,
    );
    const campaignKey = (key: string | null | undefined) =>
      key?.startsWith(`${campaignWorkflowId(campaign.id)}:`) ?? false;
    await waitFor(() => harness.accepted().some((m) => campaignKey(m.callbackData)), 'first campaign send');

    const lead = await createLead(db, { name: 'Walk-in', phone: nextPhone() });
    const input: WelcomeWorkflowInput = {
      leadId: lead.id,
      templateName: 'drip_day_1',
      templateLanguage: 'en',
      sendTaskQueue: harness.sendTaskQueue,
    };
    await env.client.workflow.start<typeof welcomeWorkflow>('welcomeWorkflow', {
      taskQueue: harness.taskQueue,
      workflowId: welcomeWorkflowId(lead.id),
      args: [input],
    });
    await waitFor(
      () => harness.accepted().filter((m) => campaignKey(m.callbackData)).length === BACKLOG,
      'the campaign backlog drained',
      60_000,
    );

    const order = harness.accepted().map((m) => (campaignKey(m.callbackData) ? 'campaign' : m.callbackData));
    const welcomeAt = order.indexOf(`${welcomeWorkflowId(lead.id)}:0`);
    expect(welcomeAt).toBeGreaterThan(0);
    // Behind it in the queue, most of the backlog still waited when the welcome went out.
    const campaignSendsAfterWelcome = order.slice(welcomeAt + 1).filter((entry) => entry === 'campaign').length;
    expect(campaignSendsAfterWelcome).toBeGreaterThanOrEqual(BACKLOG / 2);
  }, 120_000);
});
