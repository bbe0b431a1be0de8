/**
 * Records the workflow histories that test/worker/replay.test.ts replays on every change to
 * workflow code (see test/histories/README.md). Each scenario runs a real workflow on the
 * time-skipping test server, with a real worker, SQLite database and Interakt (Infobip, Meta) emulator
 * wired as in the workflow's own tests, checks that it ended the way the scenario says, and saves
 * its history as `<workflow>-<scenario>.json` (`drip-…`, `welcome-…`, `template-sync-…`,
 * `template-submission-…`, `cta-…`, `infobip-sync-…`, `campaign-…`, `interakt-track-…`, `keyword-reply-…`).
 *
 *   npm run histories:record                               # every scenario: test/histories/<name>.json
 *   npm run histories:record -- --only welcome-            # only scenarios whose name starts so (repeatable)
 *   npm run histories:record -- --label <label>            # after a versioned change: <name>.<label>.json
 *
 * It never overwrites a saved history: old histories are what prove that running workflows still
 * replay on the new code, so a new recording goes alongside them under a label. If any file it
 * would write exists, it writes nothing; `--only` is how a new scenario is recorded next to
 * scenarios already saved.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CancelledFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { asc, eq } from 'drizzle-orm';
import express from 'express';
import {
  createInfobipSyncActivities,
  createTemplateSubmissionActivities,
  createTemplateSyncActivities,
} from '../src/worker/activities';
import { createApp } from '../src/api/app';
import { generateApiKey } from '../src/api/auth';
import { errorHandler } from '../src/api/errors';
import { templateSyncRouter } from '../src/templates/sync-routes';
import { startWelcomeWorkflow } from '../src/welcome/start';
import type { Db } from '../src/db/client';
import {
  createApiKey,
  createCampaign,
  createCtaFlow,
  createLead,
  finishInfobipSyncRun,
  findLeadByPhone,
  getCampaign,
  getInfobipSyncRun,
  getInfobipSyncRunByKey,
  getLastInfobipSyncSuccess,
  getLead,
  getTemplate,
  getTemplateSyncRun,
  listAssignmentEvents,
  listMessages,
  updateLead,
  type Campaign,
  type Lead,
} from '../src/db/queries';
import { generatedPersonKind, type GeneratedPeopleSpec } from '../src/emulators/infobip';
import { DEFAULT_EMULATOR_TEMPLATES, type EmulatorTemplate } from '../src/emulators/interakt';
import { META_EMULATOR_WABA_ID } from '../src/emulators/meta';
import { createMetaTemplateClient } from '../src/providers/meta-templates';
import { createWebhookPipeline, type WebhookPipeline } from '../src/webhooks/queue';
import { keywordReplyWorkflowId } from '../src/keyword-replies/contract';
import { createInfobipClient } from '../src/providers/infobip';
import { createInteraktTemplateSource } from '../src/providers/interakt-templates';
import { handleCtaClick } from '../src/cta/click';
import { ctaKeyringReader } from '../src/cta/signing-keys';
import { startCtaFlow } from '../src/cta/start';
import type { CtaKeyring } from '../src/cta/tokens';
import { createSecretBox, generateSecretKey } from '../src/settings/secret-box';
import { cancelDripSignal, pauseDripSignal, rescheduleDripUpdate, resumeDripSignal } from '../src/drips/contract';
import { EXIT_STATUS_REASON } from '../src/drips/exits';
import { writeDeliverySettings } from '../src/delivery/settings';
import {
  infobipSyncWorkflowId,
  type InfobipSyncOptions,
  type InfobipSyncProgress,
  type InfobipSyncWorkflowInput,
} from '../src/infobip-sync/contract';
import type { CtaAction } from '../src/cta/contract';
import {
  campaignProgressQuery,
  campaignSendKey,
  campaignWorkflowId,
  cancelCampaignSignal,
  pauseCampaignSignal,
  resumeCampaignSignal,
  type CampaignProgress,
} from '../src/campaigns/contract';
import { retryCampaign, startCampaign, type CampaignRunOptions } from '../src/campaigns/start';
import { interaktEventWorkflowId, interaktUserWorkflowId, MILESTONE_EVENTS } from '../src/interakt-track/contract';
import { interaktMilestoneSink, mirrorLeadToInterakt, type TrackStartDeps } from '../src/interakt-track/start';
import { writeInteraktSettings } from '../src/settings/provider-settings';
import { INFOBIP_SCHEDULED_WORKFLOW_ID, INFOBIP_SYNC_SCHEDULE_ID } from '../src/infobip-sync/schedule';
import { startInfobipSync } from '../src/infobip-sync/start';
import { DEFAULT_INFOBIP_SYNC_SAFETY_MARGIN_MS, openInfobipSyncRun } from '../src/infobip-sync/run';
import {
  TEMPLATE_SYNC_SCHEDULE_ID,
  templateReviewedSignal,
  type TemplateSubmissionResult,
} from '../src/templates/contract';
import type { infobipSyncWorkflow } from '../src/infobip-sync/workflow';
import type { templateSyncWorkflow } from '../src/templates/workflow';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { apiClient, listen, type RunningApp } from '../test/support/api';
import { createTestDb } from '../test/support/db';
import { captureLogs, silentLogger } from '../test/support/logs';
import {
  DAY,
  nextPhone,
  startDrip,
  startDripHarness,
  step,
  waitFor,
  type DripHarness,
} from '../test/support/drip-harness';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../test/support/emulator';
import { startMetaEmulator, type StartedMetaEmulator } from '../test/support/meta-emulator';
import { seedTemplates } from '../test/support/templates';
import {
  generatedPeoplePageOf,
  startInfobipEmulator,
  TEST_INFOBIP_API_KEY,
  type StartedInfobipEmulator,
} from '../test/support/infobip-emulator';
import { bundleWorkflows, createTimeSkippingEnv, uniqueTaskQueue } from '../test/support/temporal';

const HISTORIES_DIR = path.join(REPO_ROOT, 'test', 'histories');
const LABEL_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Template sync: its own database, emulator (two rows a page) and worker, as in test/templates. */
interface SyncRig {
  db: Db;
  emulator: StartedInteraktEmulator;
  taskQueue: string;
  /** POST /templates/sync and friends, mounted as the API mounts them. */
  request: ReturnType<typeof apiClient>;
  /** Answers (or lets through) a page request before it reaches the emulator. */
  intercept: ((offset: number) => Response | undefined) | undefined;
  stop(): Promise<void>;
}

/**
 * Infobip sync: its own database, Infobip emulator and worker, as in test/infobip-sync/workflow.test.ts.
 * The real client keeps its production pacing (5 People requests/s); the scenarios read a few small
 * pages, so it costs them about a second.
 */
interface InfobipRig {
  db: Db;
  emulator: StartedInfobipEmulator;
  taskQueue: string;
  /** The generated people's anchor, to count the client's keyset requests as page numbers. */
  peopleAnchor: Date;
  /** From this People page on, requests carry a revoked key, so the emulator itself answers 401. */
  revokedFromPage: number | undefined;
  /** Lets a scenario hold a People page request before it is sent. */
  holdPage: ((page: number) => Promise<void>) | undefined;
  /** Leads in the database when the scenario began. */
  leadsBefore: number;
  stop(): Promise<void>;
}

/**
 * Template submission: its own database, Meta emulator and worker, and the API as a deployment that
 * sends through Meta runs it (POST /templates/submissions, Meta's webhooks through the webhook
 * pipeline), as in test/templates/template-submission.test.ts.
 */
interface MetaRig {
  db: Db;
  emulator: StartedMetaEmulator;
  /** Authenticated calls to that API. */
  request: ReturnType<typeof apiClient>;
  stop(): Promise<void>;
}

interface ScenarioContext {
  env: TestWorkflowEnvironment;
  /**
   * Drip, welcome, CTA, campaign, tracking and keyword reply: the drip harness's database, worker
   * pair and emulator. The emulator posts a lead's message (`deliverInbound`) to the API's
   * Interakt webhook, on the harness's queues, as in test/keyword-replies.
   */
  db: Db;
  harness: DripHarness;
  sync: SyncRig;
  infobip: InfobipRig;
  meta: MetaRig;
}

/**
 * How a run must end for its history to be saved: a result with these fields, a plain result equal
 * to this one, a failure, or a cancellation.
 */
type Ending =
  | { completes: Record<string, unknown> }
  | { returns: string | number | boolean }
  | { fails: RegExp }
  | { cancelled: true };

interface Scenario {
  /** The file name without `.json`: `<workflow>-<scenario>`. */
  name: string;
  /** Drives one run to its end and returns its handle. */
  run(context: ScenarioContext): Promise<WorkflowHandle>;
  /** The end the scenario exists to capture; a history that ended otherwise is not saved. */
  ends: Ending;
  /** What else must hold (database rows, what the provider received), given the run's result. */
  verify?(context: ScenarioContext, result: unknown, handle: WorkflowHandle): Promise<void>;
}

const sentTo = (harness: DripHarness, phone: string) => harness.accepted().filter((message) => message.phone === phone);

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(what);
}

const SYNC_KEY = 'template-sync-key';
/** The CTA links' signing keys, in the recording database. */
let CTA_KEYRING: () => Promise<CtaKeyring> = () => Promise.reject(new Error('no keyring yet'));
const POLICIES_PDF = 'https://example.com/Ipshopy_Policies.pdf';
const WELCOME_PHONE = nextPhone();
/** Six seeded + two: four pages of two. */
const SYNC_TEMPLATES: EmulatorTemplate[] = [
  {
    name: 'spring_sale',
    language: 'en',
    category: 'MARKETING',
    approvalStatus: 'PENDING',
    body: 'Hi {{1}}, our spring sale starts soon.',
  },
  {
    name: 'spring_sale',
    language: 'hi',
    category: 'MARKETING',
    approvalStatus: 'PAUSED',
    body: 'नमस्ते {{1}}, सेल जल्द शुरू होगी।',
  },
];
const SYNC_TEMPLATE_COUNT = DEFAULT_EMULATOR_TEMPLATES.length + SYNC_TEMPLATES.length;

/** Starts `welcome-<leadId>` the way POST /leads does, with the welcome settings given. */
async function startWelcome(
  { env, harness }: ScenarioContext,
  leadId: number,
  document?: { url: string; fileName: string },
) {
  const logs = captureLogs();
  const started = await startWelcomeWorkflow(
    {
      temporal: env.client,
      taskQueue: harness.taskQueue,
      sendTaskQueue: harness.sendTaskQueue,
      log: logs.logger,
    },
    { id: leadId },
    {
      enabled: true,
      defaultCountryCode: null,
      welcomeOnCreate: true,
      trackingEnabled: false,
      trackedTraits: {},
      welcomeTemplateName: 'seller_registration',
      welcomeTemplateLanguage: 'en',
      welcomeHeaderMediaUrl: document?.url ?? null,
      welcomeFileName: document?.fileName ?? null,
    },
  );
  check(
    started.status === 'started',
    `welcome for lead ${leadId} not started (${started.status}): ${logs.text().join('; ')}`,
  );
  return env.client.workflow.getHandle(started.workflowId);
}

/** POST /templates/sync, as an admin does: the API creates the run row and starts the workflow with its id. */
async function startSyncThroughApi({ env, sync }: ScenarioContext) {
  const started = await sync.request('POST', '/templates/sync');
  check(
    started.status === 202 && started.body.alreadyRunning === false,
    `POST /templates/sync answered ${started.status} ${JSON.stringify(started.body)}`,
  );
  return env.client.workflow.getHandle(started.body.workflowId as string);
}

const listOffsets = (sync: SyncRig) =>
  sync.emulator.emulator.state
    .requests()
    .filter((entry) => entry.path.includes('/track/organization/templates'))
    .map((entry) => Number(new URL(entry.path, 'http://x').searchParams.get('offset')));

/**
 * Ten people, every fifth with an unusable phone: three pages of four (the last one short). Their
 * contacts end an hour before the rig starts, so a window opened from a success a moment ago holds
 * none of them.
 */
const INFOBIP_PEOPLE: GeneratedPeopleSpec = { count: 10, seed: 5, invalidEvery: 5, duplicateEvery: 0 };
const INFOBIP_PEOPLE_VALID = Array.from({ length: INFOBIP_PEOPLE.count! }, (_, i) =>
  generatedPersonKind(i, INFOBIP_PEOPLE),
).filter((kind) => kind === 'valid').length;
const INFOBIP_PEOPLE_PAGES = 3;
const INFOBIP_LOGS = 6;
const INFOBIP_PAGE_SIZE = 4;
const HOUR_MS = 3600_000;
/** The person the scheduled run finds: contacted a minute before it starts. */
const INFOBIP_RECENT_PHONE = '+919811122334';

/** Each Infobip scenario reads the emulator's request log from its own start. */
async function beginInfobipScenario(infobip: InfobipRig): Promise<void> {
  infobip.emulator.emulator.state.reset();
  infobip.leadsBefore = await countLeads(infobip.db);
}

const countLeads = async (db: Db) => (await db.orm.select({ id: db.schema.clients.id }).from(db.schema.clients)).length;

const infobipRequests = (infobip: InfobipRig, endpoint: 'people' | 'logs') =>
  infobip.emulator.emulator.state
    .requests()
    .filter((entry) => entry.endpoint === endpoint)
    .map((entry) => ({
      page: endpoint === 'people' ? peoplePageOf(infobip, entry.path) : 0,
      status: entry.responseStatus,
    }));

/** The People page a request reads, as page numbers would count it (the client pages by createdAt). */
const peoplePageOf = (infobip: Pick<InfobipRig, 'peopleAnchor'>, requestPath: string) =>
  generatedPeoplePageOf(requestPath, { anchor: infobip.peopleAnchor, pageSize: INFOBIP_PAGE_SIZE });

/** `POST /sync/infobip/runs` as the API and CLI start a run: the run row is opened before the workflow. */
async function startInfobipRun(
  { env, infobip }: ScenarioContext,
  options: Partial<InfobipSyncOptions>,
  pagesPerChunk?: number,
) {
  const started = await startInfobipSync(
    { db: infobip.db, temporal: env.client, taskQueue: infobip.taskQueue },
    {
      trigger: 'api',
      options: {
        since: new Date(Date.now() - 8 * 24 * HOUR_MS).toISOString(),
        source: 'people',
        mode: 'create_update',
        dryRun: false,
        pageSize: INFOBIP_PAGE_SIZE,
        ...options,
      },
      ...(pagesPerChunk !== undefined && { pagesPerChunk }),
    },
  );
  check(!started.alreadyStarted, `Infobip sync run ${started.run.id} was not started anew`);
  return env.client.workflow.getHandle(started.workflowId);
}

/** The run row of a sync, found by the run key its workflow id carries (a failed run has no result to name it). */
async function infobipRunOf(infobip: InfobipRig, handle: WorkflowHandle) {
  const run = await getInfobipSyncRunByKey(infobip.db, handle.workflowId.replace(/^infobip-sync-/, ''));
  check(run, `no Infobip sync run row for ${handle.workflowId}`);
  const detail = await getInfobipSyncRun(infobip.db, run.id);
  check(detail, `Infobip sync run ${run.id} vanished`);
  return detail;
}

/**
 * Campaigns run on the drip harness's worker pair, started by `startCampaign` / `retryCampaign` as
 * the API starts them. Pages of two, so the cursor turns a page; one send in flight, so a pause or
 * cancel lands while a known send is out; two attempts a send, as test/campaigns does.
 */
const CAMPAIGN_RUN: CampaignRunOptions = { pageSize: 2, maxInFlight: 1, sendMaxAttempts: 2 };

/** A send the provider's fetch holds until the scenario lets it go: the send a pause or cancel meets in flight. */
interface HeldSend {
  key: string;
  reached: Promise<void>;
  release(): void;
}
let heldSend: (HeldSend & { arrive(): void; released: Promise<void> }) | undefined;

/** Holds the send keyed `key` (`campaign-<id>:<leadId>`) before it leaves for the emulator. */
function holdSend(key: string): HeldSend {
  let arrive!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  heldSend = { key, reached, release, arrive, released };
  return heldSend;
}

/** The harness provider's fetch: passes every request through, except the held send until it is released. */
const providerFetch: typeof fetch = async (input, init) => {
  const hold = heldSend;
  const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { callbackData?: string }) : undefined;
  if (!hold || body?.callbackData !== hold.key) return fetch(input, init);
  heldSend = undefined;
  hold.arrive();
  await hold.released;
  // Its timeout ran while it was held; the request leaves now, with the client's timeout from here.
  return fetch(input, { ...init, signal: AbortSignal.timeout(2_000) });
};

let campaignCount = 0;
async function campaignLeads(db: Db, count: number): Promise<Lead[]> {
  const leads: Lead[] = [];
  for (let i = 0; i < count; i++)
    leads.push(await createLead(db, { name: `Campaign lead ${i + 1}`, phone: nextPhone() }));
  return leads;
}

const campaignDeps = ({ env, db, harness }: ScenarioContext) => ({
  db,
  temporal: env.client,
  taskQueue: harness.taskQueue,
  sendTaskQueue: harness.sendTaskQueue,
  campaigns: CAMPAIGN_RUN,
});

/**
 * A campaign of the seeded one-variable template to these leads (an explicit list), started as the
 * API starts it; with `hold`, that lead's send is held from before the start.
 */
async function startCampaignTo(
  context: ScenarioContext,
  leads: Lead[],
  options: { scheduledAt?: Date; run?: Partial<CampaignRunOptions>; hold?: Lead } = {},
): Promise<{ campaign: Campaign; handle: WorkflowHandle; held: HeldSend | undefined }> {
  campaignCount += 1;
  const campaign = await createCampaign(context.db, {
    name: `history campaign ${campaignCount}`,
    templateName: 'drip_day_1',
    templateLanguage: 'en',
    variables: { body: [{ field: 'name' }] },
    leadIds: leads.map((lead) => lead.id),
  });
  const held = options.hold && holdSend(campaignSendKey(campaign.id, options.hold.id));
  await startCampaign(
    { ...campaignDeps(context), campaigns: { ...CAMPAIGN_RUN, ...options.run } },
    campaign.id,
    options.scheduledAt,
  );
  return { campaign, handle: context.env.client.workflow.getHandle(campaignWorkflowId(campaign.id)), held };
}

const campaignIdOf = (handle: WorkflowHandle) => Number(handle.workflowId.replace(/^campaign-/, ''));

/** The campaign's recipient rows in id order, as `<leadId>:<status>[:<reason or failure kind>]`. */
async function recipientsOf(db: Db, campaignId: number): Promise<string[]> {
  const r = db.schema.campaignRecipients;
  const rows = await db.orm.select().from(r).where(eq(r.campaignId, campaignId)).orderBy(asc(r.id));
  return rows.map((row) =>
    [row.leadId, row.status, row.status === 'failed' ? row.failureKind : row.reason].filter(Boolean).join(':'),
  );
}

/** The leads the provider accepted this campaign's template for, in order of acceptance. */
const campaignAccepted = (harness: DripHarness, campaignId: number) =>
  harness
    .accepted()
    .filter((message) => message.callbackData?.startsWith(`${campaignWorkflowId(campaignId)}:`))
    .map((message) => Number(message.callbackData!.split(':')[1]));

/** Checks the campaign row's status and its recipients, and that the provider took exactly these leads, once each. */
async function checkCampaign(
  { db, harness }: ScenarioContext,
  handle: WorkflowHandle,
  expected: { status: string; recipients: string[]; accepted: Lead[]; stopReason?: string },
): Promise<Campaign> {
  const id = campaignIdOf(handle);
  const campaign = await getCampaign(db, id);
  check(
    campaign?.status === expected.status &&
      (expected.stopReason === undefined || campaign.stopReason === expected.stopReason),
    `campaign ${id} row is ${JSON.stringify(campaign)}, expected ${expected.status}`,
  );
  const recipients = await recipientsOf(db, id);
  check(
    JSON.stringify(recipients) === JSON.stringify(expected.recipients),
    `campaign ${id} recipients are ${JSON.stringify(recipients)}, expected ${JSON.stringify(expected.recipients)}`,
  );
  const accepted = campaignAccepted(harness, id).sort((a, b) => a - b);
  const leadIds = expected.accepted.map((lead) => lead.id).sort((a, b) => a - b);
  check(
    JSON.stringify(accepted) === JSON.stringify(leadIds),
    `the provider accepted campaign ${id} for leads ${JSON.stringify(accepted)}, expected ${JSON.stringify(leadIds)} once each`,
  );
  return campaign;
}

const PERMANENT_REFUSAL = 'Please correct the following error - Recipient is not a valid WhatsApp user';

/** Interakt tracking on, mapping the lead's name, as an admin turns it on in the settings. */
async function enableTracking(db: Db, on: boolean): Promise<void> {
  await writeInteraktSettings(db, createSecretBox(generateSecretKey()), {
    trackingEnabled: on,
    trackedTraits: on ? { Name: 'name' } : {},
  });
}

const trackDeps = ({ env, db, harness }: ScenarioContext): TrackStartDeps => ({
  db,
  temporal: env.client,
  taskQueue: harness.taskQueue,
  log: silentLogger(),
});

/** Signs Meta's webhooks (emulator) and checks them (API). */
const META_APP_SECRET = 'history-meta-app-secret';
/** Signs the Interakt emulator's webhooks to the harness's API, and checks them there. */
const INBOUND_WEBHOOK_SECRET = 'history-webhook-secret';

/** A template as POST /templates/submissions takes it: what the template JSON builder describes. */
const describeTemplate = (name: string) => ({
  name,
  language: 'en',
  category: 'UTILITY',
  body: { text: 'Hi {{1}}, your visit is at {{2}}.', examples: ['Asha', '5 pm'] },
  footer: 'Bop Realty',
  buttons: [{ type: 'QUICK_REPLY', text: 'Confirm' }],
});

/**
 * Submits a template through the API and returns once the workflow has started its first wait (a
 * minute's timer, raced against the signal): Meta has the template pending and Message Master holds
 * Meta's id. A review that lands before that wait would be looked at only when the timer fires.
 */
async function submitTemplate({ env, meta }: ScenarioContext, name: string): Promise<WorkflowHandle> {
  const response = await meta.request('POST', '/templates/submissions', describeTemplate(name));
  check(
    response.status === 202,
    `POST /templates/submissions answered ${response.status} ${JSON.stringify(response.body)}`,
  );
  const { templateId, workflowId } = response.body as { templateId: number; workflowId: string };
  const handle = env.client.workflow.getHandle(workflowId);
  await waitFor(
    async () => ((await handle.fetchHistory()).events ?? []).some((event) => event.timerStartedEventAttributes),
    'the first wait for the review',
  );
  check((await getTemplate(meta.db, templateId))?.providerTemplateId, `template ${templateId} has no Meta id`);
  return handle;
}

/** What woke the submission's waits: the review webhook's signal, and how many look timers fired. */
async function reviewWakes(handle: WorkflowHandle): Promise<{ signalled: boolean; timersFired: number }> {
  const events = (await handle.fetchHistory()).events ?? [];
  return {
    signalled: events.some(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName === templateReviewedSignal.name,
    ),
    timersFired: events.filter((event) => event.timerFiredEventAttributes).length,
  };
}

/** Checks Message Master's row of the submitted template and what woke the workflow. */
async function checkSubmission(
  { meta }: ScenarioContext,
  result: unknown,
  handle: WorkflowHandle,
  expected: { approvalStatus: string; rejectionReason: string | null; signalled: boolean; timersFired: number },
): Promise<void> {
  const { templateId } = result as TemplateSubmissionResult;
  const row = await getTemplate(meta.db, templateId);
  check(
    row?.approvalStatus === expected.approvalStatus && row.rejectionReason === expected.rejectionReason,
    `template ${templateId} row is ${JSON.stringify(row)}, expected ${expected.approvalStatus} (${expected.rejectionReason})`,
  );
  const wakes = await reviewWakes(handle);
  check(
    wakes.signalled === expected.signalled && wakes.timersFired === expected.timersFired,
    `the review wait was woken by ${JSON.stringify(wakes)}, expected ${JSON.stringify(expected)}`,
  );
}

/** The opt-out confirmation (no variable), as test/keyword-replies has it. */
const STOP_CONFIRMATION: EmulatorTemplate = {
  name: 'stop_confirmation',
  language: 'en',
  body: 'You will get no more messages from us. Reply START to hear from us again.',
};
/** The lead of the keyword reply scenario, for its verify. */
let keywordLead: Lead | undefined;

/** One scenario per path through each workflow: each leaves a differently shaped history. */
const SCENARIOS: Scenario[] = [
  {
    name: 'drip-three-steps',
    ends: { completes: { status: 'completed', nextStep: 3 } },
    async run({ env, db, harness }) {
      const drip = await startDrip(db, env.client, harness, [
        step('drip_day_1', 0),
        step('drip_day_2', 2 * DAY),
        step('drip_day_3', 3 * DAY),
      ]);
      return drip.handle;
    },
  },
  {
    name: 'drip-pause-resume',
    ends: { completes: { status: 'completed', nextStep: 2 } },
    async run({ env, db, harness }) {
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY)]);
      await waitFor(() => sentTo(harness, drip.lead.phone).length === 1, 'the first step');
      await drip.handle.signal(pauseDripSignal);
      await waitFor(async () => (await drip.assignment())?.status === 'paused', 'paused status');
      await env.sleep('3 days');
      await drip.handle.signal(resumeDripSignal);
      return drip.handle;
    },
  },
  {
    name: 'drip-cancel-after-first-step',
    ends: { completes: { status: 'cancelled', stopReason: 'admin', nextStep: 1 } },
    async run({ env, db, harness }) {
      const drip = await startDrip(db, env.client, harness, [
        step('drip_day_1', 0),
        step('drip_day_2', DAY),
        step('drip_day_3', DAY),
      ]);
      await waitFor(() => sentTo(harness, drip.lead.phone).length === 1, 'the first step');
      await drip.handle.signal(cancelDripSignal, { reason: 'admin' });
      return drip.handle;
    },
  },
  {
    name: 'drip-permanent-error',
    ends: { completes: { status: 'failed', nextStep: 0 } },
    async run({ env, db, harness }) {
      const phone = nextPhone();
      harness.emulator.emulator.state.injectFault({
        kind: 'permanent',
        message: 'Please correct the following error - Recipient is not a valid WhatsApp user',
        match: { phone },
      });
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY)], {
        phone,
      });
      return drip.handle;
    },
  },
  {
    name: 'drip-5xx-then-success',
    ends: { completes: { status: 'completed', nextStep: 1 } },
    async run({ env, db, harness }) {
      const phone = nextPhone();
      harness.emulator.emulator.state.injectFault({ kind: 'http_5xx', status: 503, times: 2, match: { phone } });
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0)], { phone });
      return drip.handle;
    },
  },
  {
    name: 'drip-opt-out',
    ends: { completes: { status: 'cancelled', stopReason: 'opted_out', nextStep: 1 } },
    async run({ env, db, harness }) {
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY)]);
      await waitFor(() => sentTo(harness, drip.lead.phone).length === 1, 'the first step');
      await updateLead(db, drip.lead.id, { optedOut: true });
      return drip.handle;
    },
  },
  {
    name: 'drip-window-and-cap',
    ends: { completes: { status: 'completed', nextStep: 2 } },
    async run({ env, db, harness }) {
      // Sends only 09:00–20:00 UTC, at most one marketing message a day: the first step waits for
      // the window (unless it is open), the second for the cap.
      await writeDeliverySettings(db, {
        window: { days: [1, 2, 3, 4, 5, 6, 7], start: '09:00', end: '20:00' },
        frequencyCap: { max: 1, periodSeconds: 24 * 3600 },
      });
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', 3600)], {
        timeZone: 'UTC',
      });
      return drip.handle;
    },
    async verify({ db }, _result, handle) {
      await writeDeliverySettings(db, { window: null, frequencyCap: null });
      const assignmentId = Number(handle.workflowId.replace(/^drip-/, ''));
      const events = await listAssignmentEvents(db, assignmentId);
      check(
        events.some((event) => event.detail?.startsWith('frequency cap')),
        'the second step did not wait for the frequency cap',
      );
    },
  },
  {
    name: 'drip-reschedule-then-exit',
    ends: { completes: { status: 'cancelled', stopReason: 'exit_status', nextStep: 2 } },
    async run({ env, db, harness }) {
      const drip = await startDrip(
        db,
        env.client,
        harness,
        [step('drip_day_1', 0), step('drip_day_2', 2 * DAY), step('drip_day_3', 2 * DAY)],
        { timeZone: 'UTC' },
        { window: null, exitStatuses: ['Won'] },
      );
      await waitFor(async () => (await drip.assignment())?.nextStep === 1, 'the first step');
      await drip.handle.executeUpdate(rescheduleDripUpdate, { args: [{ action: 'snooze', seconds: DAY }] });
      await drip.handle.executeUpdate(rescheduleDripUpdate, { args: [{ action: 'send_now' }] });
      await waitFor(async () => (await drip.assignment())?.nextStep === 2, 'the step sent now');
      await updateLead(db, drip.lead.id, { stage: 'Won' });
      await drip.handle.signal(cancelDripSignal, { reason: EXIT_STATUS_REASON });
      return drip.handle;
    },
  },
  {
    name: 'welcome-document-header',
    ends: { completes: { kind: 'sent' } },
    async run(context) {
      const lead = await createLead(context.db, { name: 'Asha Rao', phone: WELCOME_PHONE });
      return startWelcome(context, lead.id, { url: POLICIES_PDF, fileName: 'Ipshopy_Policies.pdf' });
    },
    async verify({ harness }) {
      const sent = sentTo(harness, WELCOME_PHONE);
      check(
        sent.length === 1 &&
          sent[0]!.headerValues?.[0] === POLICIES_PDF &&
          sent[0]!.fileName === 'Ipshopy_Policies.pdf',
        `expected one welcome with the document header, the provider accepted ${JSON.stringify(sent)}`,
      );
    },
  },
  {
    name: 'welcome-opted-out',
    ends: { completes: { kind: 'skipped', reason: 'opted_out' } },
    async run(context) {
      // Opted out after creation, before the send: the send finds it and skips.
      const lead = await createLead(context.db, { name: 'Later Out', phone: nextPhone() });
      await updateLead(context.db, lead.id, { optedOut: true });
      return startWelcome(context, lead.id);
    },
  },
  {
    name: 'template-sync-api-pages',
    ends: {
      completes: { status: 'completed', fetched: SYNC_TEMPLATE_COUNT, created: SYNC_TEMPLATE_COUNT, errorCount: 0 },
    },
    run: startSyncThroughApi,
    async verify({ sync }, result) {
      const run = await getTemplateSyncRun(sync.db, (result as { runId: number }).runId);
      check(
        run?.trigger === 'api' && run.status === 'completed',
        `run row is ${JSON.stringify(run)}, expected an api run completed`,
      );
      check(listOffsets(sync).length >= 3, `expected several pages, read offsets ${JSON.stringify(listOffsets(sync))}`);
    },
  },
  {
    name: 'template-sync-scheduled',
    ends: { completes: { status: 'completed', fetched: SYNC_TEMPLATE_COUNT, unchanged: SYNC_TEMPLATE_COUNT } },
    async run({ env, sync }) {
      // What the schedule's action starts (src/templates/schedule.ts): no run id, so the workflow creates its row.
      return env.client.workflow.start<typeof templateSyncWorkflow>('templateSyncWorkflow', {
        taskQueue: sync.taskQueue,
        workflowId: `${TEMPLATE_SYNC_SCHEDULE_ID}-recorded`,
        args: [{}],
      });
    },
    async verify({ sync }, result) {
      const run = await getTemplateSyncRun(sync.db, (result as { runId: number }).runId);
      check(
        run?.trigger === 'schedule' && run.status === 'completed',
        `run row is ${JSON.stringify(run)}, expected a schedule run completed`,
      );
    },
  },
  {
    name: 'template-sync-401-midway',
    ends: { fails: /Interakt refused the API key \(HTTP 401\)/ },
    async run(context) {
      // Two pages read, then the key is refused: non-retryable, so the run is marked failed at once.
      context.sync.intercept = (offset) =>
        offset >= 4 ? new Response('{"result":false,"message":"Invalid token provided"}', { status: 401 }) : undefined;
      return startSyncThroughApi(context);
    },
    async verify({ env, sync }) {
      sync.intercept = undefined;
      const { workflowId } = await latestSyncHandle(env, sync);
      const run = await getTemplateSyncRun(sync.db, Number(workflowId.replace('template-sync-', '')));
      check(
        run?.status === 'failed' && run.fetched === 4,
        `run row is ${JSON.stringify(run)}, expected failed after 4 rows`,
      );
    },
  },
  {
    name: 'cta-interested',
    ends: { completes: { status: 'interested' } },
    async run(context) {
      const cta = await startCta(context);
      await clickCta(context, cta, 'interested');
      return cta.handle;
    },
    async verify({ harness }) {
      check(
        harness.accepted().some((message) => message.template.name === 'project_brochure'),
        'expected the brochure to be sent',
      );
    },
  },
  {
    name: 'cta-not-interested',
    ends: { completes: { status: 'not_interested' } },
    async run(context) {
      const cta = await startCta(context);
      await clickCta(context, cta, 'not_interested');
      return cta.handle;
    },
  },
  {
    name: 'cta-no-response',
    ends: { completes: { status: 'no_response' } },
    async run(context) {
      return (await startCta(context)).handle;
    },
  },
  {
    name: 'cta-late-click',
    ends: { completes: { status: 'interested' } },
    async run(context) {
      // Closed as no response, then clicked: a new run of the same id carries out the decision.
      const cta = await startCta(context);
      await cta.handle.result();
      await clickCta(context, cta, 'interested');
      return context.env.client.workflow.getHandle(cta.handle.workflowId);
    },
  },
  {
    name: 'infobip-sync-people-pages',
    ends: { completes: { status: 'completed', pagesDone: INFOBIP_PEOPLE_PAGES, failure: null } },
    async run(context) {
      // Two pages per activity call: one call ends with a page still to read, the next with the list done.
      await beginInfobipScenario(context.infobip);
      return startInfobipRun(context, { source: 'people', mode: 'create_update' }, 2);
    },
    async verify({ infobip }, result) {
      const run = await getInfobipSyncRun(infobip.db, (result as InfobipSyncProgress).runId!);
      const unusable = INFOBIP_PEOPLE.count! - INFOBIP_PEOPLE_VALID;
      check(
        run?.status === 'completed' &&
          run.trigger === 'api' &&
          run.fetched === INFOBIP_PEOPLE.count &&
          run.created === INFOBIP_PEOPLE_VALID &&
          run.invalid === unusable &&
          run.pages === INFOBIP_PEOPLE_PAGES,
        `run row is ${JSON.stringify(run)}, expected ${INFOBIP_PEOPLE.count} fetched, ${INFOBIP_PEOPLE_VALID} created, ${unusable} invalid over ${INFOBIP_PEOPLE_PAGES} pages`,
      );
      const leads = await countLeads(infobip.db);
      check(
        leads === infobip.leadsBefore + INFOBIP_PEOPLE_VALID,
        `expected ${INFOBIP_PEOPLE_VALID} new leads, found ${leads - infobip.leadsBefore}`,
      );
      const pages = infobipRequests(infobip, 'people');
      check(
        JSON.stringify(pages) === JSON.stringify([1, 2, 3].map((page) => ({ page, status: 200 }))),
        `People pages read: ${JSON.stringify(pages)}`,
      );
    },
  },
  {
    name: 'infobip-sync-dry-run',
    ends: { completes: { status: 'completed', failure: null } },
    async run(context) {
      // People, then the SMS logs (clamped to the 48 hours they keep): two lists, nothing written.
      await beginInfobipScenario(context.infobip);
      return startInfobipRun(context, { source: 'both', mode: 'create_update', dryRun: true });
    },
    async verify({ infobip }, result) {
      const progress = result as InfobipSyncProgress;
      const run = await getInfobipSyncRun(infobip.db, progress.runId!);
      check(
        run?.status === 'completed' &&
          run.dryRun &&
          run.fetched === INFOBIP_PEOPLE.count! + INFOBIP_LOGS &&
          (run.preview?.length ?? 0) > 0,
        `run row is ${JSON.stringify(run)}, expected a completed dry run over ${INFOBIP_PEOPLE.count! + INFOBIP_LOGS} records with a preview`,
      );
      check(
        progress.warnings.some((warning) => warning.startsWith('SMS logs only reach back 48 hours')),
        `expected the logs' 48-hour warning, got ${JSON.stringify(progress.warnings)}`,
      );
      check(
        infobipRequests(infobip, 'logs').length >= 2,
        `expected several log pages, read ${JSON.stringify(infobipRequests(infobip, 'logs'))}`,
      );
      const leads = await countLeads(infobip.db);
      check(leads === infobip.leadsBefore, `a dry run wrote leads: ${infobip.leadsBefore} before, ${leads} after`);
    },
  },
  {
    name: 'infobip-sync-429-then-ok',
    ends: { completes: { status: 'completed', pagesDone: INFOBIP_PEOPLE_PAGES, failure: null } },
    async run(context) {
      // Page 1 is rate limited once: the activity fails retryably, and its second attempt reads every page.
      await beginInfobipScenario(context.infobip);
      context.infobip.emulator.emulator.state.injectFault({
        kind: 'rate_limit',
        endpoint: 'people',
        retryAfterSeconds: 1,
      });
      return startInfobipRun(context, { source: 'people', mode: 'update_only' });
    },
    async verify({ infobip }, result) {
      const pages = infobipRequests(infobip, 'people');
      const expected = [{ page: 1, status: 429 }, ...[1, 2, 3].map((page) => ({ page, status: 200 }))];
      check(
        JSON.stringify(pages) === JSON.stringify(expected),
        `People pages read: ${JSON.stringify(pages)}, expected ${JSON.stringify(expected)}`,
      );
      const run = await getInfobipSyncRun(infobip.db, (result as InfobipSyncProgress).runId!);
      check(
        run?.status === 'completed' && run.fetched === INFOBIP_PEOPLE.count && run.created === 0,
        `run row is ${JSON.stringify(run)}, expected every person read once, none created`,
      );
    },
  },
  {
    name: 'infobip-sync-401-midway',
    ends: { fails: /^Infobip sync run \d+ failed: Infobip refused the API key/ },
    async run(context) {
      // One page per activity call; the key is revoked before page 3: not retried, the run row is marked failed.
      await beginInfobipScenario(context.infobip);
      context.infobip.revokedFromPage = 3;
      return startInfobipRun(context, { source: 'people', mode: 'create_update' }, 1);
    },
    async verify({ infobip }, _result, handle) {
      infobip.revokedFromPage = undefined;
      const run = await infobipRunOf(infobip, handle);
      check(
        run.status === 'failed' &&
          run.fetched === 2 * INFOBIP_PAGE_SIZE &&
          /refused the API key/.test(run.failure ?? '') &&
          !run.failure!.includes('revoked-key'),
        `run row is ${JSON.stringify(run)}, expected failed after two pages, naming the refused key (not the key itself)`,
      );
      const pages = infobipRequests(infobip, 'people');
      const expected = [
        { page: 1, status: 200 },
        { page: 2, status: 200 },
        { page: 3, status: 401 },
      ];
      check(
        JSON.stringify(pages) === JSON.stringify(expected),
        `People pages read: ${JSON.stringify(pages)}, expected ${JSON.stringify(expected)} (a 401 is not retried)`,
      );
    },
  },
  {
    name: 'infobip-sync-scheduled',
    ends: { completes: { status: 'completed', failure: null } },
    async run(context) {
      const { env, infobip } = context;
      await beginInfobipScenario(infobip);
      // The last scheduled success ends now, whatever was recorded before, so the window is derived from it.
      const now = new Date();
      const lastSuccessKey = `recorded-last-success-${now.getTime()}`;
      const { run: last } = await openInfobipSyncRun(infobip.db, {
        runKey: lastSuccessKey,
        workflowId: infobipSyncWorkflowId(lastSuccessKey),
        trigger: 'schedule',
        options: {
          since: new Date(now.getTime() - HOUR_MS).toISOString(),
          until: now.toISOString(),
          source: 'people',
          mode: 'create_update',
          dryRun: false,
        },
        now,
      });
      await finishInfobipSyncRun(infobip.db, last.id, { status: 'completed', finishedAt: now });
      infobip.emulator.emulator.state.addPeople([
        {
          id: 9001,
          firstName: 'Recent',
          lastName: 'Contact',
          createdAt: '2030-01-01T00:00:00',
          customAttributes: {
            LastContactedAt: new Date(Date.now() - 60_000).toISOString(),
            LastContactedChannel: 'WHATSAPP',
          },
          contactInformation: { phone: [{ number: '+91 98111 22334' }] },
        },
      ]);
      // What the schedule's action starts (src/infobip-sync/schedule.ts), under the id Temporal gives it: no window, no run row yet.
      const input: InfobipSyncWorkflowInput = {
        trigger: 'schedule',
        scheduleId: INFOBIP_SYNC_SCHEDULE_ID,
        options: { source: 'people', mode: 'create_update', dryRun: false, pageSize: INFOBIP_PAGE_SIZE },
      };
      return env.client.workflow.start<typeof infobipSyncWorkflow>('infobipSyncWorkflow', {
        taskQueue: infobip.taskQueue,
        workflowId: `${INFOBIP_SCHEDULED_WORKFLOW_ID}-${new Date().toISOString()}`,
        args: [input],
      });
    },
    async verify({ infobip }, result) {
      const progress = result as InfobipSyncProgress;
      const run = await getInfobipSyncRun(infobip.db, progress.runId!);
      const lastSuccess = await getLastInfobipSyncSuccess(infobip.db, { trigger: 'schedule' });
      check(run && lastSuccess, `no scheduled run row or last success: ${JSON.stringify(run)}`);
      check(
        run.status === 'completed' &&
          run.trigger === 'schedule' &&
          run.scheduleId === INFOBIP_SYNC_SCHEDULE_ID &&
          run.runKey.startsWith('scheduled-'),
        `run row is ${JSON.stringify(run)}, expected a completed scheduled run`,
      );
      const previousEnd = (run.options as { lastSuccessAt?: string }).lastSuccessAt;
      check(
        previousEnd !== undefined &&
          run.windowFrom.getTime() === Date.parse(previousEnd) - DEFAULT_INFOBIP_SYNC_SAFETY_MARGIN_MS,
        `window starts ${run.windowFrom.toISOString()}, expected the last success (${previousEnd}) minus the margin`,
      );
      check(
        run.fetched === 1 && run.created === 1,
        `run row is ${JSON.stringify(run)}, expected only the recent contact, created`,
      );
      check(
        (await findLeadByPhone(infobip.db, INFOBIP_RECENT_PHONE))?.source === 'infobip',
        'expected the recent contact as an Infobip lead',
      );
    },
  },
  {
    name: 'infobip-sync-already-closed',
    ends: { completes: { status: 'failed', pagesDone: 0, failure: null } },
    async run({ env, infobip }) {
      // A start whose RPC failed after it reached the server: startInfobipSync marked the run failed,
      // yet the workflow runs. It finds its run closed and reads nothing.
      await beginInfobipScenario(infobip);
      const runKey = `api-recorded-${Date.now()}`;
      const workflowId = infobipSyncWorkflowId(runKey);
      const options: InfobipSyncOptions = {
        since: new Date(Date.now() - 8 * 24 * HOUR_MS).toISOString(),
        source: 'people',
        mode: 'create_update',
        dryRun: false,
        pageSize: INFOBIP_PAGE_SIZE,
      };
      const { run } = await openInfobipSyncRun(infobip.db, {
        runKey,
        workflowId,
        trigger: 'api',
        options,
        now: new Date(),
      });
      await finishInfobipSyncRun(infobip.db, run.id, {
        status: 'failed',
        failure: 'workflow start failed: deadline exceeded',
        finishedAt: new Date(),
      });
      return env.client.workflow.start<typeof infobipSyncWorkflow>('infobipSyncWorkflow', {
        taskQueue: infobip.taskQueue,
        workflowId,
        args: [{ trigger: 'api', options }],
      });
    },
    async verify({ infobip }, _result, handle) {
      const run = await infobipRunOf(infobip, handle);
      check(
        run.status === 'failed' && run.failure === 'workflow start failed: deadline exceeded',
        `run row is ${JSON.stringify(run)}, expected it left as it was`,
      );
      check(infobipRequests(infobip, 'people').length === 0, 'a run found closed read People');
    },
  },
  {
    name: 'infobip-sync-cancelled',
    ends: { cancelled: true },
    async run(context) {
      // Cancelled while page 2 is being read: the run row is marked failed before the workflow ends cancelled.
      const { infobip } = context;
      await beginInfobipScenario(infobip);
      let reached!: () => void;
      const atPage2 = new Promise<void>((resolve) => (reached = resolve));
      const released = new Promise<void>((resolve) => (releaseInfobipHold = resolve));
      infobip.holdPage = async (page) => {
        if (page !== 2) return;
        reached();
        await released;
      };
      const handle = await startInfobipRun(context, { source: 'people', mode: 'create_update' }, 1);
      await atPage2;
      await handle.cancel();
      return handle;
    },
    async verify({ infobip }, _result, handle) {
      const run = await infobipRunOf(infobip, handle);
      check(
        run.status === 'failed' && run.failure === 'cancelled' && run.fetched === INFOBIP_PAGE_SIZE,
        `run row is ${JSON.stringify(run)}, expected failed as cancelled after one page`,
      );
      // The held activity was abandoned; let it finish so it is not left over for the next scenario.
      infobip.holdPage = undefined;
      releaseInfobipHold();
      await waitFor(
        () => infobipRequests(infobip, 'people').some((request) => request.page === 2),
        'the held page read',
      );
    },
  },
  {
    name: 'campaign-explicit-list',
    ends: { completes: { status: 'completed', settledThisRun: 4, stopReason: null } },
    async run(context) {
      // Two sends in flight at a time, two pages and a last empty one: every lead sent.
      const leads = await campaignLeads(context.db, 4);
      campaignScenarioLeads = leads;
      return (await startCampaignTo(context, leads, { run: { maxInFlight: 2 } })).handle;
    },
    async verify(context, _result, handle) {
      await checkCampaign(context, handle, {
        status: 'completed',
        recipients: campaignScenarioLeads.map((lead) => `${lead.id}:sent`),
        accepted: campaignScenarioLeads,
      });
    },
  },
  {
    name: 'campaign-opted-out-and-permanent-failure',
    ends: { completes: { status: 'completed', settledThisRun: 4, stopReason: null } },
    async run(context) {
      // The second lead opted out after the campaign was made; the provider refuses the third for good.
      const leads = await campaignLeads(context.db, 4);
      campaignScenarioLeads = leads;
      context.harness.emulator.emulator.state.injectFault({
        kind: 'permanent',
        message: PERMANENT_REFUSAL,
        match: { phone: leads[2]!.phone },
      });
      const started = await startCampaignTo(context, leads);
      await updateLead(context.db, leads[1]!.id, { optedOut: true });
      return started.handle;
    },
    async verify(context, _result, handle) {
      const [a, optedOut, refused, d] = campaignScenarioLeads;
      await checkCampaign(context, handle, {
        status: 'completed',
        recipients: [
          `${a!.id}:sent`,
          `${optedOut!.id}:skipped:opted_out`,
          `${refused!.id}:failed:permanent`,
          `${d!.id}:sent`,
        ],
        accepted: [a!, d!],
      });
    },
  },
  {
    name: 'campaign-pause-resume',
    // The send taken back by the pause finished anyway, so this run settles the other three.
    ends: { completes: { status: 'completed', settledThisRun: 3, stopReason: null } },
    async run(context) {
      const { db, env } = context;
      const leads = await campaignLeads(db, 4);
      campaignScenarioLeads = leads;
      const { campaign, handle, held } = await startCampaignTo(context, leads, { hold: leads[1] });
      await held!.reached;
      await handle.signal(pauseCampaignSignal);
      await waitFor(async () => (await getCampaign(db, campaign.id))?.status === 'paused', 'the campaign paused');
      // The provider answers the send that was out: its recipient is settled sent, and not sent again.
      held!.release();
      await waitFor(
        async () => (await recipientsOf(db, campaign.id))[1] === `${leads[1]!.id}:sent`,
        'the taken-back send settled',
      );
      await env.sleep('2 hours');
      check(campaignAccepted(context.harness, campaign.id).length === 2, 'a send went out while paused');
      await handle.signal(resumeCampaignSignal);
      return handle;
    },
    async verify(context, _result, handle) {
      await checkCampaign(context, handle, {
        status: 'completed',
        recipients: campaignScenarioLeads.map((lead) => `${lead.id}:sent`),
        accepted: campaignScenarioLeads,
      });
    },
  },
  {
    name: 'campaign-cancel-mid-send',
    ends: { completes: { status: 'cancelled', settledThisRun: 1, stopReason: 'wrong template' } },
    async run(context) {
      const { db } = context;
      const leads = await campaignLeads(db, 4);
      campaignScenarioLeads = leads;
      const { handle, held } = await startCampaignTo(context, leads, { hold: leads[1] });
      releaseCampaignHold = held!.release;
      await held!.reached;
      await handle.signal(cancelCampaignSignal, { reason: 'wrong template' });
      return handle;
    },
    async verify(context, _result, handle) {
      // The send that was out when the cancel came is let go only now, after the run ended: it
      // reaches the provider and settles its row; the two after it were never handed out.
      releaseCampaignHold();
      const [a, b, c, d] = campaignScenarioLeads;
      const id = campaignIdOf(handle);
      await waitFor(async () => (await recipientsOf(context.db, id))[1] === `${b!.id}:sent`, 'the last send settled');
      await checkCampaign(context, handle, {
        status: 'cancelled',
        stopReason: 'wrong template',
        recipients: [`${a!.id}:sent`, `${b!.id}:sent`, `${c!.id}:pending`, `${d!.id}:pending`],
        accepted: [a!, b!],
      });
    },
  },
  {
    name: 'campaign-transient-failure',
    ends: { completes: { status: 'completed', settledThisRun: 3, stopReason: null } },
    async run(context) {
      // Both attempts of the second lead's send meet a 503: the workflow records it as a transient failure.
      const leads = await campaignLeads(context.db, 3);
      campaignScenarioLeads = leads;
      context.harness.emulator.emulator.state.injectFault({
        kind: 'http_5xx',
        status: 503,
        times: CAMPAIGN_RUN.sendMaxAttempts,
        match: { phone: leads[1]!.phone },
      });
      return (await startCampaignTo(context, leads)).handle;
    },
    async verify(context, _result, handle) {
      const [a, b, c] = campaignScenarioLeads;
      await checkCampaign(context, handle, {
        status: 'completed',
        recipients: [`${a!.id}:sent`, `${b!.id}:failed:transient`, `${c!.id}:sent`],
        accepted: [a!, c!],
      });
    },
  },
  {
    name: 'campaign-retry-failed',
    ends: { completes: { status: 'completed', settledThisRun: 1, stopReason: null } },
    async run(context) {
      // The first run: one sent, one refused for good, one unreachable (transient). The retry is a
      // second run of campaign-<id> over the transient failure only; this is its history.
      const leads = await campaignLeads(context.db, 3);
      campaignScenarioLeads = leads;
      const state = context.harness.emulator.emulator.state;
      state.injectFault({ kind: 'permanent', message: PERMANENT_REFUSAL, match: { phone: leads[1]!.phone } });
      state.injectFault({
        kind: 'http_5xx',
        status: 503,
        times: CAMPAIGN_RUN.sendMaxAttempts,
        match: { phone: leads[2]!.phone },
      });
      const { campaign, handle } = await startCampaignTo(context, leads);
      const first = (await handle.result()) as CampaignProgress;
      check(first.status === 'completed', `the first run ended ${JSON.stringify(first)}`);
      const finished = await getCampaign(context.db, campaign.id);
      const { requeued } = await retryCampaign(campaignDeps(context), finished!);
      check(requeued === 1, `retry requeued ${requeued} recipients, expected the transient one`);
      return context.env.client.workflow.getHandle(handle.workflowId);
    },
    async verify(context, _result, handle) {
      const [a, refused, unreachable] = campaignScenarioLeads;
      const campaign = await checkCampaign(context, handle, {
        status: 'completed',
        recipients: [`${a!.id}:sent`, `${refused!.id}:failed:permanent`, `${unreachable!.id}:sent`],
        accepted: [a!, unreachable!],
      });
      check(campaign.retryCount === 1, `campaign retryCount is ${campaign.retryCount}, expected 1`);
    },
  },
  {
    name: 'campaign-scheduled',
    ends: { completes: { status: 'completed', settledThisRun: 2, stopReason: null } },
    async run(context) {
      // Scheduled a day ahead: the workflow waits (time skipped), then writes its recipients and sends.
      const leads = await campaignLeads(context.db, 2);
      campaignScenarioLeads = leads;
      const { handle } = await startCampaignTo(context, leads, { scheduledAt: await aDayAhead(context.env) });
      const progress = await handle.query(campaignProgressQuery);
      check(progress.status === 'scheduled', `the campaign is not waiting for its time: ${JSON.stringify(progress)}`);
      return handle;
    },
    async verify(context, _result, handle) {
      await checkCampaign(context, handle, {
        status: 'completed',
        recipients: campaignScenarioLeads.map((lead) => `${lead.id}:sent`),
        accepted: campaignScenarioLeads,
      });
    },
  },
  {
    name: 'campaign-cancelled-while-scheduled',
    ends: { completes: { status: 'cancelled', settledThisRun: 0, stopReason: 'admin' } },
    async run(context) {
      // Cancelled before its time: no recipient is written, nothing is sent.
      const leads = await campaignLeads(context.db, 2);
      const { handle } = await startCampaignTo(context, leads, { scheduledAt: await aDayAhead(context.env) });
      await waitFor(
        async () => (await handle.query(campaignProgressQuery)).status === 'scheduled',
        'the campaign waiting for its time',
      );
      await handle.signal(cancelCampaignSignal, { reason: 'admin' });
      return handle;
    },
    async verify(context, _result, handle) {
      await checkCampaign(context, handle, { status: 'cancelled', stopReason: 'admin', recipients: [], accepted: [] });
    },
  },
  {
    name: 'interakt-track-user-after-429',
    ends: { returns: 'sent' },
    async run(context) {
      // Tracking on; the lead's mirror meets two 429s (Retry-After 1 s) before Interakt takes it.
      await enableTracking(context.db, true);
      const lead = await createLead(context.db, { name: 'Asha Rao', phone: nextPhone() });
      trackedPhone = lead.phone;
      context.harness.emulator.emulator.state.injectFault({
        kind: 'rate_limit',
        retryAfterSeconds: 1,
        times: 2,
        match: { phone: lead.phone },
      });
      await mirrorLeadToInterakt(trackDeps(context), lead);
      return context.env.client.workflow.getHandle(interaktUserWorkflowId(lead.id, lead.updatedAt.getTime()));
    },
    async verify({ db, harness }) {
      await enableTracking(db, false);
      const calls = harness.emulator.emulator.state.tracked().filter((call) => call.phone === trackedPhone);
      check(
        calls.length === 1 && calls[0]!.kind === 'user',
        `Interakt tracked ${JSON.stringify(calls)}, expected one user call`,
      );
    },
  },
  {
    name: 'interakt-track-campaign-event',
    ends: { returns: 'sent' },
    async run(context) {
      // A campaign's send reported as an event, through the worker's milestone sink.
      await enableTracking(context.db, true);
      const lead = await createLead(context.db, { name: 'Ravi Kumar', phone: nextPhone() });
      trackedPhone = lead.phone;
      const key = `campaign-history-${Date.now()}:${lead.id}-sent`;
      await interaktMilestoneSink(trackDeps(context))({
        leadId: lead.id,
        event: MILESTONE_EVENTS.campaignSent,
        key,
        traits: { campaignId: 1, templateName: 'drip_day_1' },
      });
      return context.env.client.workflow.getHandle(interaktEventWorkflowId(key));
    },
    async verify({ db, harness }) {
      await enableTracking(db, false);
      const calls = harness.emulator.emulator.state.tracked().filter((call) => call.phone === trackedPhone);
      check(
        calls.length === 1 && calls[0]!.event === MILESTONE_EVENTS.campaignSent,
        `Interakt tracked ${JSON.stringify(calls)}, expected one "${MILESTONE_EVENTS.campaignSent}" event`,
      );
    },
  },
  {
    name: 'template-submission-approved-by-webhook',
    ends: { completes: { approvalStatus: 'Approved', decided: true } },
    async run(context) {
      // Meta approves it within the first minute: its webhook, applied by the pipeline, signals the
      // workflow, which looks at once instead of when its timer fires.
      const handle = await submitTemplate(context, 'visit_reminder_approved');
      const delivery = await context.meta.emulator.emulator.state.reviewTemplate('visit_reminder_approved', 'en', {
        event: 'APPROVED',
      });
      check(delivery.responseStatus === 200, `the review webhook was answered ${delivery.responseStatus}`);
      await waitFor(async () => (await reviewWakes(handle)).signalled, 'the templateReviewed signal');
      return handle;
    },
    async verify(context, result, handle) {
      await checkSubmission(context, result, handle, {
        approvalStatus: 'Approved',
        rejectionReason: null,
        signalled: true,
        timersFired: 0,
      });
    },
  },
  {
    name: 'template-submission-rejected-found-by-timer',
    ends: { completes: { approvalStatus: 'Rejected', decided: true } },
    async run(context) {
      // Meta rejects it and its webhook never comes: the first look, when the minute's timer fires
      // (time skipped while the result is awaited), reads the rejection by id.
      const handle = await submitTemplate(context, 'visit_reminder_rejected');
      const state = context.meta.emulator.emulator.state;
      const submitted = state.templates().find((template) => template.name === 'visit_reminder_rejected');
      check(submitted, 'Meta does not have the submitted template');
      state.upsertTemplate({ ...submitted, approvalStatus: 'REJECTED', rejectionReason: 'PROMOTIONAL' });
      return handle;
    },
    async verify(context, result, handle) {
      const state = context.meta.emulator.emulator.state;
      const rejected = state.templates().find((template) => template.name === 'visit_reminder_rejected');
      check(
        !state
          .webhookDeliveries()
          .some((delivery) =>
            delivery.events.some((event) => 'templateId' in event && event.templateId === rejected?.waTemplateId),
          ),
        'Meta posted a webhook about the rejected template',
      );
      await checkSubmission(context, result, handle, {
        approvalStatus: 'Rejected',
        rejectionReason: 'PROMOTIONAL',
        signalled: false,
        timersFired: 1,
      });
    },
  },
  {
    name: 'keyword-reply-opt-out-sent',
    ends: { completes: { kind: 'sent' } },
    async run({ env, db, harness }) {
      // The lead writes STOP: the Interakt webhook opts them out and starts the confirmation the
      // delivery settings name, which goes to the lead now opted out.
      harness.emulator.emulator.state.upsertTemplate(STOP_CONFIRMATION);
      await seedTemplates(db, [STOP_CONFIRMATION]);
      await writeDeliverySettings(db, {
        keywordReplies: { optOut: { templateName: STOP_CONFIRMATION.name, templateLanguage: 'en' } },
      });
      const lead = await createLead(db, { name: 'Asha Rao', phone: nextPhone() });
      keywordLead = lead;
      const delivery = await harness.emulator.emulator.state.deliverInbound(lead.phone, 'STOP');
      check(delivery.responseStatus === 200, `the STOP webhook was answered ${delivery.responseStatus}`);
      const inboundId = await waitFor(async () => {
        const log = await listMessages(db, { page: 1, pageSize: 10, leadId: lead.id, direction: 'incoming' });
        return log.items.find((row) => (row.messageContent as { text?: string } | null)?.text === 'STOP')?.id;
      }, 'the inbound STOP');
      return env.client.workflow.getHandle(keywordReplyWorkflowId(inboundId));
    },
    async verify({ db, harness }, _result, handle) {
      await writeDeliverySettings(db, { keywordReplies: { optOut: null } });
      check(keywordLead, 'no keyword reply lead');
      check((await getLead(db, keywordLead.id))?.optedOut === true, `lead ${keywordLead.id} is not opted out`);
      const sent = sentTo(harness, keywordLead.phone);
      check(
        sent.length === 1 &&
          sent[0]!.template.name === STOP_CONFIRMATION.name &&
          sent[0]!.callbackData === `${handle.workflowId}:0`,
        `expected one ${STOP_CONFIRMATION.name} keyed ${handle.workflowId}:0, the provider accepted ${JSON.stringify(sent)}`,
      );
    },
  },
];

/**
 * A day after the test server's clock, which runs ahead of the wall clock by all the time skipped
 * so far: what the workflow compares a scheduled time with.
 */
const aDayAhead = async (env: TestWorkflowEnvironment) =>
  new Date(Math.max(Date.now(), await env.currentTimeMs()) + DAY * 1000);

/** The leads of the campaign scenario running now, for its verify. */
let campaignScenarioLeads: Lead[] = [];
/** Lets go of the send the cancel scenario holds. */
let releaseCampaignHold: () => void = () => {};
/** The phone of the tracking scenario running now. */
let trackedPhone = '';

/** Lets go of the People request the cancelled scenario holds. */
let releaseInfobipHold: () => void = () => {};

interface StartedCta {
  leadId: number;
  handle: WorkflowHandle;
  /** The suffix of each answer's button, as the interactive message carried it. */
  links: Record<CtaAction, string>;
}

let ctaFlowCount = 0;
/** A flow over the emulator's CTA templates, a lead in it, and its interactive message sent. */
async function startCta({ env, db, harness }: ScenarioContext): Promise<StartedCta> {
  ctaFlowCount += 1;
  const flow = await createCtaFlow(db, {
    name: `history flow ${ctaFlowCount}`,
    templateName: 'project_update_template',
    templateLanguage: 'en',
    projectName: 'Palm Grove Residences',
    bodyVariables: [{ field: 'name' }, { value: 'Palm Grove Residences' }],
    interestedButtonIndex: 0,
    notInterestedButtonIndex: 1,
    reminderAfterSeconds: DAY,
    closeAfterSeconds: 2 * DAY,
    tokenTtlSeconds: 30 * DAY,
    brochureTemplateName: 'project_brochure',
    brochureTemplateLanguage: 'en',
    brochureUrl: 'https://example.com/palm-grove.pdf',
    brochureFileName: 'Palm Grove.pdf',
    followUpCallAfterSeconds: 3600,
    ivrNumber: null,
  });
  const lead = await createLead(db, { name: 'Asha Rao', phone: nextPhone() });
  const started = await startCtaFlow(
    { db, temporal: env.client, taskQueue: harness.taskQueue, sendTaskQueue: harness.sendTaskQueue },
    { flowId: flow.id, leadId: lead.id, trigger: 'api' },
  );
  check(started.kind === 'started', `CTA flow not started: ${JSON.stringify(started)}`);
  const message = await waitFor(
    () =>
      harness
        .accepted()
        .find((accepted) => accepted.phone === lead.phone && accepted.template.name === 'project_update_template'),
    'the interactive message',
  );
  return {
    leadId: lead.id,
    handle: env.client.workflow.getHandle(started.run.workflowId),
    links: { interested: message.buttonValues['0']![0]!, not_interested: message.buttonValues['1']![0]! },
  };
}

/** A tap on one of the buttons, through the click endpoint's own handler. */
async function clickCta({ env, db, harness }: ScenarioContext, cta: StartedCta, action: CtaAction): Promise<void> {
  const query = new URLSearchParams(cta.links[action].split('?')[1]);
  const outcome = await handleCtaClick(
    {
      db,
      temporal: env.client,
      taskQueue: harness.taskQueue,
      sendTaskQueue: harness.sendTaskQueue,
      getCtaKeyring: CTA_KEYRING,
      log: silentLogger(),
    },
    {
      leadId: String(cta.leadId),
      token: query.get('token'),
      action: query.get('action'),
      userAgent: 'Mozilla/5.0 (Linux; Android 14)',
      isPreview: false,
    },
  );
  check(outcome.kind === 'recorded' && outcome.signalled, `click not recorded: ${JSON.stringify(outcome)}`);
}

/** The id of the newest API-started sync, for a scenario whose result is a failure. */
async function latestSyncHandle(env: TestWorkflowEnvironment, sync: SyncRig) {
  const runs = await sync.request('GET', '/templates/sync-runs?page=1&pageSize=1');
  return env.client.workflow.getHandle(`template-sync-${runs.body.items[0].id as number}`);
}

async function startSyncRig(env: TestWorkflowEnvironment): Promise<SyncRig> {
  const db = await createTestDb();
  const emulator = await startInteraktEmulator({
    apiKey: SYNC_KEY,
    autoWebhooks: false,
    templatePageSize: 2,
    templates: SYNC_TEMPLATES,
  });
  const taskQueue = uniqueTaskQueue('template-sync');
  const rig = { db, emulator, taskQueue, intercept: undefined } as Omit<SyncRig, 'request' | 'stop'> & Partial<SyncRig>;
  const interceptingFetch: typeof fetch = async (input, init) => {
    const offset = Number(new URL(String(input)).searchParams.get('offset'));
    return rig.intercept?.(offset) ?? fetch(input, init);
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await bundleWorkflows(),
    activities: createTemplateSyncActivities({
      db,
      getTemplateSource: () =>
        createInteraktTemplateSource({
          baseUrl: emulator.baseUrl,
          getApiKey: () => SYNC_KEY,
          timeoutMs: 10_000,
          fetch: interceptingFetch,
        }),
    }),
  });
  const running = worker.run();
  const app = express();
  app.use(express.json());
  app.use('/templates', templateSyncRouter({ db, temporal: env.client, taskQueue, checkResponses: true }).router);
  app.use(errorHandler(silentLogger()));
  let api: RunningApp | undefined;
  try {
    api = await listen(app);
  } catch (error) {
    worker.shutdown();
    await running;
    throw error;
  }
  rig.request = apiClient(api.url);
  rig.stop = async () => {
    await api.close();
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await emulator.close();
    await db.close();
  };
  return rig as SyncRig;
}

async function startInfobipRig(env: TestWorkflowEnvironment): Promise<InfobipRig> {
  const db = await createTestDb();
  const peopleAnchor = new Date(Date.now() - HOUR_MS);
  const emulator = await startInfobipEmulator({
    people: { ...INFOBIP_PEOPLE, anchor: peopleAnchor },
    smsLogs: { count: INFOBIP_LOGS, seed: 3 },
  });
  const taskQueue = uniqueTaskQueue('infobip-sync');
  const rig = {
    db,
    emulator,
    taskQueue,
    peopleAnchor,
    revokedFromPage: undefined,
    holdPage: undefined,
    leadsBefore: 0,
  } as Omit<InfobipRig, 'stop'> & Partial<InfobipRig>;
  const rigFetch: typeof fetch = async (input, init) => {
    const page = String(input).includes('/people/') ? peoplePageOf(rig, String(input)) : 0;
    await rig.holdPage?.(page);
    if (rig.revokedFromPage === undefined || page < rig.revokedFromPage) return fetch(input, init);
    const headers = new Headers(init?.headers);
    headers.set('authorization', 'App revoked-key');
    return fetch(input, { ...init, headers });
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await bundleWorkflows(),
    activities: createInfobipSyncActivities({
      db,
      defaultCountry: 'IN',
      getInfobipClient: () =>
        createInfobipClient({
          baseUrl: emulator.url,
          getApiKey: () => TEST_INFOBIP_API_KEY,
          timeoutMs: 10_000,
          fetch: rigFetch,
        }),
    }),
  });
  const running = worker.run();
  rig.stop = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await emulator.close();
    await db.close();
  };
  return rig as InfobipRig;
}

async function startMetaRig(env: TestWorkflowEnvironment): Promise<MetaRig> {
  const db = await createTestDb();
  const taskQueue = uniqueTaskQueue('template-submission');
  const pipeline: WebhookPipeline = createWebhookPipeline(db, { log: silentLogger() });
  const api = await listen(
    createApp({
      db,
      temporal: env.client,
      taskQueue,
      sendTaskQueue: `${taskQueue}-sends-meta`,
      defaultCountry: 'IN',
      metaAppSecret: META_APP_SECRET,
      metaVerifyToken: 'verify',
      messagingProvider: 'meta',
      log: silentLogger(),
      webhookPipeline: pipeline,
    }),
  );
  const { key, keyHash, keyPrefix } = generateApiKey();
  await createApiKey(db, { name: 'histories', keyHash, keyPrefix });
  // Webhooks only when a scenario asks for one (a review), as the test has it.
  const emulator = await startMetaEmulator({
    appSecret: META_APP_SECRET,
    webhookUrl: `${api.url}/webhooks/meta`,
    autoWebhooks: false,
  });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await bundleWorkflows(),
    activities: createTemplateSubmissionActivities({
      db,
      getMetaTemplateClient: () =>
        createMetaTemplateClient({
          graphBaseUrl: emulator.url,
          apiVersion: 'v21.0',
          wabaId: META_EMULATOR_WABA_ID,
          getAccessToken: () => 'test-meta-token',
          timeoutMs: 10_000,
        }),
    }),
  });
  const running = worker.run();
  return {
    db,
    emulator,
    request: apiClient(api.url, key),
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await emulator.close();
      await api.close();
      await pipeline.close();
      await db.close();
    },
  };
}

/**
 * The API on the drip harness's database and queues, receiving the Interakt emulator's webhooks:
 * what a lead writes (`deliverInbound`) reaches it signed, as in test/keyword-replies. The emulator
 * still posts no status of its own (`autoWebhooks` stays off), so the other scenarios see no webhook.
 */
async function startInboundApi(env: TestWorkflowEnvironment, db: Db, harness: DripHarness): Promise<RunningApp> {
  const api = await listen(
    createApp({
      db,
      temporal: env.client,
      taskQueue: harness.taskQueue,
      sendTaskQueue: harness.sendTaskQueue,
      defaultCountry: 'IN',
      interaktWebhookSecret: INBOUND_WEBHOOK_SECRET,
      log: silentLogger(),
    }),
  );
  harness.emulator.emulator.state.configureWebhooks({
    webhookUrl: `${api.url}/webhooks/interakt`,
    webhookSecret: INBOUND_WEBHOOK_SECRET,
  });
  return api;
}

/** Waits for the run's end and throws unless it ended as the scenario says; returns its result. */
async function awaitEnding(scenario: Scenario, handle: WorkflowHandle): Promise<unknown> {
  const outcome = await handle.result().then(
    (result: unknown) => ({ result }),
    (error: unknown) => ({ error }),
  );
  const ends = scenario.ends;
  if ('completes' in ends) {
    if ('error' in outcome)
      throw new Error(
        `Scenario ${scenario.name} failed (${String(outcome.error)}), expected ${JSON.stringify(ends.completes)}`,
      );
    const result = outcome.result as Record<string, unknown>;
    for (const [key, value] of Object.entries(ends.completes)) {
      if (result?.[key] !== value)
        throw new Error(
          `Scenario ${scenario.name} ended as ${JSON.stringify(result)}, expected ${JSON.stringify(ends.completes)}`,
        );
    }
    return result;
  }
  if ('returns' in ends) {
    if ('error' in outcome || outcome.result !== ends.returns)
      throw new Error(
        `Scenario ${scenario.name} ended as ${JSON.stringify(outcome)}, expected it to return ${JSON.stringify(ends.returns)}`,
      );
    return outcome.result;
  }
  if ('cancelled' in ends) {
    if (
      'error' in outcome &&
      outcome.error instanceof WorkflowFailedError &&
      outcome.error.cause instanceof CancelledFailure
    )
      return undefined;
    throw new Error(`Scenario ${scenario.name} ended as ${JSON.stringify(outcome)}, expected the run to be cancelled`);
  }
  if (!('error' in outcome) || !(outcome.error instanceof WorkflowFailedError)) {
    throw new Error(
      `Scenario ${scenario.name} ended as ${JSON.stringify(outcome)}, expected the run to fail with ${ends.fails}`,
    );
  }
  const message = outcome.error.cause?.message ?? '';
  if (!ends.fails.test(message))
    throw new Error(`Scenario ${scenario.name} failed with "${message}", expected ${ends.fails}`);
  return undefined;
}

function historyPath(scenario: string, label: string | undefined): string {
  return path.join(HISTORIES_DIR, label ? `${scenario}.${label}.json` : `${scenario}.json`);
}

function parseOptions(): { label: string | undefined; scenarios: Scenario[] } {
  const { values } = parseArgs({ options: { label: { type: 'string' }, only: { type: 'string', multiple: true } } });
  const label = values.label;
  if (label !== undefined && !LABEL_PATTERN.test(label)) {
    throw new Error(`--label must be kebab-case (e.g. skip-weekends-patch), got "${label}"`);
  }
  const prefixes = values.only ?? [];
  const scenarios =
    prefixes.length === 0
      ? SCENARIOS
      : SCENARIOS.filter((scenario) => prefixes.some((prefix) => scenario.name.startsWith(prefix)));
  if (scenarios.length === 0) {
    throw new Error(
      `--only ${prefixes.join(', ')} matches no scenario; there are:\n${SCENARIOS.map((scenario) => `  ${scenario.name}`).join('\n')}`,
    );
  }
  const taken = scenarios.map((scenario) => historyPath(scenario.name, label)).filter((file) => existsSync(file));
  if (taken.length > 0) {
    const list = taken.map((file) => `  ${path.relative(REPO_ROOT, file)}`).join('\n');
    throw new Error(
      `Saved histories are never replaced (test/histories/README.md). These already exist:\n${list}\n` +
        'Record alongside them instead (npm run histories:record -- --label <what-changed>), ' +
        'or record only new scenarios (npm run histories:record -- --only <name-prefix>)',
    );
  }
  return { label, scenarios };
}

async function main(): Promise<void> {
  const { label, scenarios } = parseOptions();
  // Several scenarios fail activities on purpose; the worker's warnings about them are noise here.
  process.env.TEMPORAL_TEST_LOG_LEVEL ??= 'ERROR';
  const env = await createTimeSkippingEnv();
  const db = await createTestDb();
  let harness: DripHarness | undefined;
  let sync: SyncRig | undefined;
  let infobip: InfobipRig | undefined;
  let meta: MetaRig | undefined;
  let inboundApi: RunningApp | undefined;
  try {
    CTA_KEYRING = ctaKeyringReader(db, createSecretBox(generateSecretKey()));
    harness = await startDripHarness({
      db,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      client: env.client,
      getCtaKeyring: CTA_KEYRING,
      providerFetch,
      interaktTracking: true,
    });
    sync = await startSyncRig(env);
    infobip = await startInfobipRig(env);
    meta = await startMetaRig(env);
    inboundApi = await startInboundApi(env, db, harness);
    const context: ScenarioContext = { env, db, harness, sync, infobip, meta };
    const recorded: { file: string; text: string; summary: string }[] = [];
    // One at a time, so no scenario's time skipping or faults reach into another's history.
    for (const scenario of scenarios) {
      const handle = await scenario.run(context);
      const result = await awaitEnding(scenario, handle);
      await scenario.verify?.(context, result, handle);
      const history = await handle.fetchHistory();
      recorded.push({
        file: historyPath(scenario.name, label),
        text: `${historyToJSON(history)}\n`,
        summary: `${history.events?.length ?? 0} events, ${'fails' in scenario.ends ? 'failed' : 'cancelled' in scenario.ends ? 'cancelled' : 'completed'}`,
      });
    }
    // Written only once every scenario succeeded, so a failed run leaves no partial set behind.
    mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const { file, text, summary } of recorded) {
      writeFileSync(file, text);
      console.log(`wrote ${path.relative(REPO_ROOT, file)} (${summary})`);
    }
  } finally {
    releaseInfobipHold();
    releaseCampaignHold();
    await inboundApi?.close();
    await meta?.stop();
    await infobip?.stop();
    await sync?.stop();
    await harness?.stop();
    await env.teardown();
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
