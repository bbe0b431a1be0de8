import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import { ctaKeyringReader } from '../../src/cta/signing-keys';
import { signCtaToken } from '../../src/cta/tokens';
import type { Db } from '../../src/db/client';
import { CTA_DECISION_LEAD_STATE } from '../../src/cta/contract';
import {
  applyCtaDecisionToLead,
  createApiKey,
  createLead,
  decideCtaRun,
  findCtaRun,
  getLead,
  listLeadNotes,
  listLeadTasks,
  type CtaFlow,
  type Lead,
} from '../../src/db/queries';
import type { AcceptedMessage } from '../../src/emulators/interakt';
import { createSecretBox, generateSecretKey } from '../../src/settings/secret-box';
import { ctaStateQuery, ctaWorkflowId, type CtaState } from '../../src/cta/contract';
import { dripProgressQuery, type DripProgress } from '../../src/drips/contract';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { DAY, nextPhone, startDrip, startDripHarness, step, waitFor, type DripHarness } from '../support/drip-harness';
import { createTimeSkippingEnv } from '../support/temporal';
import { captureLogs } from '../support/logs';

const BROWSER_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36';

/**
 * CTA follow-up flows end to end under time skipping: the API puts a lead in a flow, the worker
 * sends the interactive template through the emulator, a browser opens the button's URL on the
 * click endpoint, and the workflow carries out the answer. Days of waiting pass in moments.
 */
describe('CTA follow-up flow', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let harness: DripHarness;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  const logs = captureLogs();
  const box = createSecretBox(generateSecretKey());
  let getCtaKeyring: ReturnType<typeof ctaKeyringReader>;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    db = await createTestDb();
    getCtaKeyring = ctaKeyringReader(db, box);
    // The emulator's CTA template must point at the API, which needs the harness's queues: take a
    // port first by listening with a placeholder, then build the app on the harness's queues.
    harness = await startDripHarness({
      db,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      client: env.client,
      getCtaKeyring,
    });
    const app = createApp({
      db,
      temporal: env.client,
      taskQueue: harness.taskQueue,
      sendTaskQueue: harness.sendTaskQueue,
      defaultCountry: 'IN',
      secretBox: box,
      getCtaKeyring,
      log: logs.logger,
    });
    api = await listen(app);
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
  });

  afterAll(async () => {
    await harness?.stop();
    await api?.close();
    await env?.teardown();
    await db?.close();
  });

  let flowCounter = 0;
  async function createFlow(overrides: Record<string, unknown> = {}): Promise<CtaFlow> {
    flowCounter += 1;
    const response = await request('POST', '/cta/flows', {
      name: `Palm Grove ${flowCounter}`,
      templateName: 'project_update_template',
      projectName: 'Palm Grove Residences',
      brochureTemplateName: 'project_brochure',
      brochureUrl: 'https://example.com/palm-grove.pdf',
      brochureFileName: 'Palm Grove.pdf',
      reminderAfterSeconds: DAY,
      closeAfterSeconds: 2 * DAY,
      followUpCallAfterSeconds: 3600,
      ...overrides,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as CtaFlow;
  }

  async function startFlow(flow: CtaFlow, lead: Lead) {
    const response = await request('POST', `/cta/flows/${flow.id}/start`, { leadIds: [lead.id] });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return env.client.workflow.getHandle(ctaWorkflowId(lead.id, flow.id));
  }

  const ctaMessages = (lead: Lead, template = 'project_update_template') =>
    harness.accepted().filter((message) => message.phone === lead.phone && message.template.name === template);

  /** The URL a phone opens for the button: the emulator's rendered URL moved onto this API. */
  function buttonUrl(message: AcceptedMessage, index: 0 | 1): string {
    const suffix = message.buttonValues[String(index)]![0]!;
    return `${api.url}/track/${suffix}`;
  }

  async function waitForCta(lead: Lead): Promise<AcceptedMessage> {
    return waitFor(() => ctaMessages(lead)[0], 'the interactive message at the emulator');
  }

  const open = (url: string, userAgent = BROWSER_UA) =>
    fetch(url, { headers: { 'user-agent': userAgent }, redirect: 'manual' });

  it('interested: the page confirms, the lead moves to Interested, the brochure goes out, a note and a call task are written', async () => {
    const flow = await createFlow();
    const lead = await createLead(db, { name: 'Asha Rao', phone: nextPhone() });
    const handle = await startFlow(flow, lead);
    const message = await waitForCta(lead);
    expect(message.bodyValues).toEqual(['Asha Rao', 'Palm Grove Residences']);

    const response = await open(buttonUrl(message, 0));
    expect(response.status).toBe(200);
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await response.text()).toContain('Palm Grove Residences');

    const result = (await handle.result()) as CtaState;
    expect(result).toMatchObject({ status: 'interested', decision: 'interested' });
    const updated = await getLead(db, lead.id);
    expect(updated).toMatchObject({ status: 'Interested', stage: 'Interested', marketingSuppressedAt: null });
    const brochure = ctaMessages(lead, 'project_brochure');
    expect(brochure).toHaveLength(1);
    expect(brochure[0]).toMatchObject({
      headerValues: ['https://example.com/palm-grove.pdf'],
      fileName: 'Palm Grove.pdf',
    });

    const timeline = await request('GET', `/leads/${lead.id}/timeline`);
    const notes = (timeline.body.notes as { body: string }[]).map((note) => note.body);
    expect(notes.some((body) => body.includes("Clicked 'Interested' via WhatsApp"))).toBe(true);
    expect(notes.some((body) => body.includes('Brochure sent automatically'))).toBe(true);
    expect(timeline.body.tasks).toHaveLength(1);
    const [task, ...otherTasks] = await listLeadTasks(db, lead.id);
    expect(otherTasks).toHaveLength(0);
    expect(task).toMatchObject({ kind: 'follow_up_call', status: 'open' });
    const run = await findCtaRun(db, { flowId: flow.id, leadId: lead.id });
    expect(run).toMatchObject({ status: 'interested', decision: 'interested' });
    expect(task!.dueAt.getTime()).toBe(run!.decidedAt!.getTime() + 3600_000);
  });

  it('not interested: a running drip of the same lead stops before its next send, and the lead is suppressed and Cold', async () => {
    const flow = await createFlow();
    const phone = nextPhone();
    const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY)], {
      name: 'Ravi Kumar',
      phone,
    });
    await waitFor(
      () => harness.accepted().some((m) => m.phone === phone && m.template.name === 'drip_day_1'),
      'the first drip step',
    );
    await waitFor(
      async () => (await drip.handle.query(dripProgressQuery)).nextStep === 1,
      'the drip to sleep before step 2',
    );
    const lead = (await getLead(db, drip.lead.id))!;

    const handle = await startFlow(flow, lead);
    const message = await waitForCta(lead);
    const response = await open(buttonUrl(message, 1));
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/won.t|will not/i);

    expect(await handle.result()).toMatchObject({ status: 'not_interested' });
    // The drip's timer would fire a day later; under time skipping result() lets it, if it still ran.
    const dripResult = (await drip.handle.result()) as DripProgress;
    expect(dripResult).toMatchObject({ status: 'cancelled', stopReason: 'not_interested', nextStep: 1 });
    expect(harness.accepted().filter((m) => m.phone === phone && m.template.name === 'drip_day_2')).toHaveLength(0);
    expect(ctaMessages(lead, 'project_brochure')).toHaveLength(0);

    const updated = await getLead(db, lead.id);
    expect(updated).toMatchObject({ status: 'Not interested', stage: 'Cold' });
    expect(updated!.marketingSuppressedAt).toBeInstanceOf(Date);
    const notes = (await listLeadNotes(db, lead.id)).map((note) => note.body);
    expect(notes.some((body) => body.includes("Clicked 'Not interested'"))).toBe(true);
    expect(notes.some((body) => body.includes('1 drip(s)'))).toBe(true);

    // Suppressed for good: a new drip or flow refuses the lead.
    const again = await request('POST', `/cta/flows/${(await createFlow()).id}/start`, { leadIds: [lead.id] });
    expect(again.body.skipped).toEqual([{ leadId: lead.id, reason: 'suppressed' }]);
  });

  it('no click: one reminder after the wait, then the run closes as no response', async () => {
    const flow = await createFlow();
    const lead = await createLead(db, { name: 'Meera Shah', phone: nextPhone() });
    const handle = await startFlow(flow, lead);
    await waitForCta(lead);

    expect(await handle.result()).toMatchObject({ status: 'no_response', decision: null });
    const sent = ctaMessages(lead);
    expect(sent).toHaveLength(2);
    // Each message carries its own signed links; both are for this lead.
    expect(sent[1]!.buttonValues['0']![0]).toMatch(new RegExp(`^${lead.id}\\?token=`));
    const run = await findCtaRun(db, { flowId: flow.id, leadId: lead.id });
    expect(run).toMatchObject({ status: 'no_response', decision: null });
    expect(run!.remindedAt).toBeInstanceOf(Date);
    // The waits are the flow's: a day before the reminder, two more before closing.
    const timers = (await handle.fetchHistory()).events!.filter((event) => event.timerStartedEventAttributes);
    expect(timers.map((event) => Number(event.timerStartedEventAttributes!.startToFireTimeout!.seconds))).toEqual([
      DAY,
      2 * DAY,
    ]);
  });

  it('a click after the run closed as no response still counts: the lead gets the brochure', async () => {
    const flow = await createFlow();
    const lead = await createLead(db, { name: 'Kiran Das', phone: nextPhone() });
    const handle = await startFlow(flow, lead);
    const message = await waitForCta(lead);
    expect(await handle.result()).toMatchObject({ status: 'no_response' });

    expect((await open(buttonUrl(message, 0))).status).toBe(200);
    const late = env.client.workflow.getHandle(ctaWorkflowId(lead.id, flow.id));
    expect(await late.result()).toMatchObject({ status: 'interested' });
    expect(ctaMessages(lead)).toHaveLength(2); // nothing re-sent, only the brochure
    expect(ctaMessages(lead, 'project_brochure')).toHaveLength(1);
    expect(await findCtaRun(db, { flowId: flow.id, leadId: lead.id })).toMatchObject({ status: 'interested' });
  });

  it('refuses a second live flow on the same IVR number, whatever its format, with 409', async () => {
    await createFlow({ ivrNumber: '080 4455 6699' });
    const response = await request('POST', '/cta/flows', {
      name: 'Same line',
      templateName: 'project_update_template',
      projectName: 'Other',
      brochureTemplateName: 'project_brochure',
      ivrNumber: '+91 80 4455 6699',
    });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('ivr_number_taken');
  });

  describe('an answer whose signal was lost (recorded in the database, never signalled) is still carried out', () => {
    /** What the click endpoint commits before it signals. */
    async function answerWithoutSignal(flow: CtaFlow, lead: Lead, action: 'interested' | 'not_interested') {
      const run = (await findCtaRun(db, { flowId: flow.id, leadId: lead.id }))!;
      expect(await decideCtaRun(db, { runId: run.id, action, at: new Date() })).toBe(true);
      await applyCtaDecisionToLead(db, { leadId: lead.id, ...CTA_DECISION_LEAD_STATE[action], at: new Date() });
    }

    it('before the reminder: "not interested" is found instead of sending the reminder, and the follow-ups stop', async () => {
      const flow = await createFlow();
      const lead = await createLead(db, { name: 'Lost Signal', phone: nextPhone() });
      const handle = await startFlow(flow, lead);
      await waitForCta(lead);
      await answerWithoutSignal(flow, lead, 'not_interested');

      expect(await handle.result()).toMatchObject({ status: 'not_interested', decision: 'not_interested' });
      expect(ctaMessages(lead)).toHaveLength(1);
      expect(await findCtaRun(db, { flowId: flow.id, leadId: lead.id })).toMatchObject({ status: 'not_interested' });
      const notes = (await listLeadNotes(db, lead.id)).map((note) => note.body);
      expect(notes.some((body) => body.includes('Follow-ups stopped'))).toBe(true);
    });

    it('after the reminder: the close finds "interested" and the brochure goes out', async () => {
      const flow = await createFlow();
      const lead = await createLead(db, { name: 'Late Signal', phone: nextPhone() });
      const handle = await startFlow(flow, lead);
      await waitForCta(lead);
      await env.sleep(DAY * 1000 + 1000);
      await waitFor(() => ctaMessages(lead).length === 2, 'the reminder');
      await answerWithoutSignal(flow, lead, 'interested');

      expect(await handle.result()).toMatchObject({ status: 'interested', decision: 'interested' });
      expect(ctaMessages(lead, 'project_brochure')).toHaveLength(1);
      expect(await findCtaRun(db, { flowId: flow.id, leadId: lead.id })).toMatchObject({ status: 'interested' });
    });
  });

  it('a message the provider refuses for good closes the run as failed, with the reason', async () => {
    const flow = await createFlow();
    const lead = await createLead(db, { name: 'Refused Number', phone: nextPhone() });
    harness.emulator.emulator.state.injectFault({ kind: 'permanent', match: { phone: lead.phone } });
    const handle = await startFlow(flow, lead);

    expect(await handle.result()).toMatchObject({ status: 'failed', decision: null });
    const run = await findCtaRun(db, { flowId: flow.id, leadId: lead.id });
    expect(run).toMatchObject({ status: 'failed' });
    expect(run!.lastError).toMatch(/Customer is not available/);
    expect(ctaMessages(lead)).toHaveLength(0);
  });

  it('a repeated click is recorded but changes nothing: the first answer stands and later taps see "already recorded"', async () => {
    const flow = await createFlow();
    const lead = await createLead(db, { name: 'Neha Iyer', phone: nextPhone() });
    const handle = await startFlow(flow, lead);
    const message = await waitForCta(lead);

    expect((await open(buttonUrl(message, 0))).status).toBe(200);
    const again = await open(buttonUrl(message, 0));
    expect(again.status).toBe(200);
    expect(await again.text()).toMatch(/already/i);
    const other = await open(buttonUrl(message, 1));
    expect(other.status).toBe(200);
    expect(await other.text()).toMatch(/already/i);

    expect(await handle.result()).toMatchObject({ status: 'interested' });
    expect(ctaMessages(lead, 'project_brochure')).toHaveLength(1);
    expect(await getLead(db, lead.id)).toMatchObject({ status: 'Interested', marketingSuppressedAt: null });
    const results = await db.orm.select().from(db.schema.ctaInteractions);
    const mine = results.filter((row) => row.leadId === lead.id);
    expect(mine.map((row) => [row.action, row.result])).toEqual([
      ['interested', 'decided'],
      ['interested', 'repeat'],
      ['not_interested', 'repeat'],
    ]);
    expect(mine[0]!.userAgent).toBe(BROWSER_UA);
  });

  describe('links that must change nothing', () => {
    let flow: CtaFlow;
    let lead: Lead;
    let message: AcceptedMessage;

    beforeAll(async () => {
      flow = await createFlow();
      lead = await createLead(db, { name: 'Vikram Rao', phone: nextPhone() });
      await startFlow(flow, lead);
      message = await waitForCta(lead);
    });

    async function expectUnchanged(): Promise<void> {
      expect(await findCtaRun(db, { flowId: flow.id, leadId: lead.id })).toMatchObject({
        decision: null,
        status: 'sent',
      });
      expect(await getLead(db, lead.id)).toMatchObject({ status: 'New', stage: 'New', marketingSuppressedAt: null });
      const interactions = await db.orm.select().from(db.schema.ctaInteractions);
      expect(interactions.filter((row) => row.leadId === lead.id)).toHaveLength(0);
      const state = await env.client.workflow.getHandle(ctaWorkflowId(lead.id, flow.id)).query(ctaStateQuery);
      expect(state).toMatchObject({ status: 'sent', decision: null });
    }

    it('a tampered token gets the 403 page', async () => {
      const url = new URL(buttonUrl(message, 1));
      const token = url.searchParams.get('token')!;
      url.searchParams.set('token', token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'));
      const response = await open(url.toString());
      expect(response.status).toBe(403);
      expect(await response.text()).toMatch(/no longer valid|not valid/i);
      await expectUnchanged();
    });

    it('the interested token with action=not_interested gets the 403 page', async () => {
      const url = new URL(buttonUrl(message, 0));
      url.searchParams.set('action', 'not_interested');
      expect((await open(url.toString())).status).toBe(403);
      await expectUnchanged();
    });

    it("another lead's token gets the 403 page", async () => {
      const other = await createLead(db, { name: 'Other Lead', phone: nextPhone() });
      const url = new URL(buttonUrl(message, 0));
      url.pathname = `/track/${other.id}`;
      expect((await open(url.toString())).status).toBe(403);
      await expectUnchanged();
    });

    it('an expired token gets the 403 expired page', async () => {
      const keyring = await getCtaKeyring();
      const token = signCtaToken(keyring, {
        leadId: lead.id,
        flowId: flow.id,
        action: 'interested',
        expiresAt: new Date(Date.now() - 1000),
      });
      const response = await open(`${api.url}/track/${lead.id}?token=${token}&action=interested`);
      expect(response.status).toBe(403);
      expect(await response.text()).toMatch(/expired|no longer valid/i);
      await expectUnchanged();
    });

    it("a link-preview bot (WhatsApp's own fetcher) gets a neutral page and records nothing", async () => {
      const response = await open(buttonUrl(message, 1), 'WhatsApp/2.23.20.0 A');
      expect(response.status).toBe(200);
      await expectUnchanged();
    });

    it('no token or phone number reaches the logs', async () => {
      const token = new URL(buttonUrl(message, 0)).searchParams.get('token')!;
      const all = logs.text().join('\n');
      expect(logs.lines().some((line) => line.msg === 'CTA answered')).toBe(true);
      expect(all).not.toContain(token);
      expect(all).not.toContain(lead.phone);
      expect(all).not.toContain(lead.phone.slice(1));
    });
  });

  it('analytics count sent, answers and no responses per flow, with engagement and conversion rates', async () => {
    const flow = await createFlow();
    const yes = await createLead(db, { name: 'Yes Lead', phone: nextPhone() });
    const no = await createLead(db, { name: 'No Lead', phone: nextPhone() });
    const silent = await createLead(db, { name: 'Silent Lead', phone: nextPhone() });
    const handles = [await startFlow(flow, yes), await startFlow(flow, no), await startFlow(flow, silent)];
    await open(buttonUrl(await waitForCta(yes), 0));
    await open(buttonUrl(await waitForCta(no), 1));
    await waitForCta(silent);
    // One at a time: the time-skipping server skips time while a result is awaited.
    for (const handle of handles) await handle.result();

    const response = await request(
      'GET',
      `/cta/analytics?flowId=${flow.id}&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`,
    );
    expect(response.status).toBe(200);
    expect(response.body.flows).toEqual([
      {
        flowId: flow.id,
        flowName: flow.name,
        sent: 3,
        interested: 1,
        notInterested: 1,
        noResponse: 1,
        engagementRate: 0.6667,
        conversionRate: 0.3333,
      },
    ]);
    expect(
      response.body.recentInteractions.map((row: { leadName: string; action: string }) => [row.leadName, row.action]),
    ).toEqual([
      ['No Lead', 'not_interested'],
      ['Yes Lead', 'interested'],
    ]);
  });
});
