/**
 * Records the workflow histories that test/workflows/replay.test.ts replays on every change to
 * workflow code (see test/histories/README.md). Each scenario runs a real workflow on the
 * time-skipping test server, with a real worker, SQLite database and Interakt emulator wired as in
 * the workflow's own tests, checks that it ended the way the scenario says, and saves its history
 * as `<workflow>-<scenario>.json` (`drip-…`, `welcome-…`, `template-sync-…`, `cta-…`).
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
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import express from 'express';
import { createTemplateSyncActivities } from '../src/activities';
import { errorHandler } from '../src/api/errors';
import { templateSyncRouter } from '../src/api/routes/template-sync';
import { startWelcomeWorkflow } from '../src/api/welcome';
import type { Db } from '../src/db/client';
import { createCtaFlow, createLead, getTemplateSyncRun, updateLead } from '../src/db/queries';
import { DEFAULT_EMULATOR_TEMPLATES, type EmulatorTemplate } from '../src/emulators/interakt';
import { createInteraktTemplateClient } from '../src/providers/interakt-templates';
import { handleCtaClick } from '../src/cta/click';
import { ctaKeyringReader } from '../src/cta/signing-keys';
import { startCtaFlow } from '../src/cta/start';
import type { CtaKeyring } from '../src/cta/tokens';
import { createSecretBox, generateSecretKey } from '../src/settings/secret-box';
import { cancelDripSignal, pauseDripSignal, resumeDripSignal, type CtaAction } from '../src/shared';
import { TEMPLATE_SYNC_SCHEDULE_ID } from '../src/templates/sync-ids';
import type { templateSyncWorkflow } from '../src/workflows/template-sync';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { apiClient, listen, type RunningApp } from '../test/support/api';
import { createTestDb } from '../test/support/db';
import { DAY, nextPhone, startDrip, startDripHarness, step, waitFor, type DripHarness } from '../test/support/drip-harness';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../test/support/emulator';
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

interface ScenarioContext {
  env: TestWorkflowEnvironment;
  /** Drip and welcome: the drip harness's database, worker pair and emulator. */
  db: Db;
  harness: DripHarness;
  sync: SyncRig;
}

/** How a run must end for its history to be saved: a result with these fields, or a failure. */
type Ending = { completes: Record<string, unknown> } | { fails: RegExp };

interface Scenario {
  /** The file name without `.json`: `<workflow>-<scenario>`. */
  name: string;
  /** Drives one run to its end and returns its handle. */
  run(context: ScenarioContext): Promise<WorkflowHandle>;
  /** The end the scenario exists to capture; a history that ended otherwise is not saved. */
  ends: Ending;
  /** What else must hold (database rows, what the provider received), given the run's result. */
  verify?(context: ScenarioContext, result: unknown): Promise<void>;
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
  { name: 'spring_sale', language: 'en', category: 'MARKETING', approvalStatus: 'PENDING', body: 'Hi {{1}}, our spring sale starts soon.' },
  { name: 'spring_sale', language: 'hi', category: 'MARKETING', approvalStatus: 'PAUSED', body: 'नमस्ते {{1}}, सेल जल्द शुरू होगी।' },
];
const SYNC_TEMPLATE_COUNT = DEFAULT_EMULATOR_TEMPLATES.length + SYNC_TEMPLATES.length;

/** Starts `welcome-<leadId>` the way POST /leads does, with the welcome settings given. */
async function startWelcome({ env, harness }: ScenarioContext, leadId: number, document?: { url: string; fileName: string }) {
  const failures: string[] = [];
  const started = await startWelcomeWorkflow(
    { temporal: env.client, taskQueue: harness.taskQueue, sendTaskQueue: harness.sendTaskQueue, log: (line) => failures.push(line) },
    { id: leadId },
    {
      enabled: true,
      defaultCountryCode: null,
      welcomeOnCreate: true,
      welcomeTemplateName: 'seller_registration',
      welcomeTemplateLanguage: 'en',
      welcomeHeaderMediaUrl: document?.url ?? null,
      welcomeFileName: document?.fileName ?? null,
    },
  );
  check(started.status === 'started', `welcome for lead ${leadId} not started (${started.status}): ${failures.join('; ')}`);
  return env.client.workflow.getHandle(started.workflowId);
}

/** POST /templates/sync, as an admin does: the API creates the run row and starts the workflow with its id. */
async function startSyncThroughApi({ env, sync }: ScenarioContext) {
  const started = await sync.request('POST', '/templates/sync');
  check(started.status === 202 && started.body.alreadyRunning === false, `POST /templates/sync answered ${started.status} ${JSON.stringify(started.body)}`);
  return env.client.workflow.getHandle(started.body.workflowId as string);
}

const listOffsets = (sync: SyncRig) =>
  sync.emulator.emulator.state
    .requests()
    .filter((entry) => entry.path.includes('/track/organization/templates'))
    .map((entry) => Number(new URL(entry.path, 'http://x').searchParams.get('offset')));

/** One scenario per path through each workflow: each leaves a differently shaped history. */
const SCENARIOS: Scenario[] = [
  {
    name: 'drip-three-steps',
    ends: { completes: { status: 'completed', nextStep: 3 } },
    async run({ env, db, harness }) {
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', 2 * DAY), step('drip_day_3', 3 * DAY)]);
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
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY), step('drip_day_3', DAY)]);
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
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY)], { phone });
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
    name: 'welcome-document-header',
    ends: { completes: { kind: 'sent' } },
    async run(context) {
      const lead = await createLead(context.db, { name: 'Asha Rao', phone: WELCOME_PHONE });
      return startWelcome(context, lead.id, { url: POLICIES_PDF, fileName: 'Ipshopy_Policies.pdf' });
    },
    async verify({ harness }) {
      const sent = sentTo(harness, WELCOME_PHONE);
      check(
        sent.length === 1 && sent[0]!.headerValues?.[0] === POLICIES_PDF && sent[0]!.fileName === 'Ipshopy_Policies.pdf',
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
    ends: { completes: { status: 'completed', fetched: SYNC_TEMPLATE_COUNT, created: SYNC_TEMPLATE_COUNT, errorCount: 0 } },
    run: startSyncThroughApi,
    async verify({ sync }, result) {
      const run = await getTemplateSyncRun(sync.db, (result as { runId: number }).runId);
      check(run?.trigger === 'api' && run.status === 'completed', `run row is ${JSON.stringify(run)}, expected an api run completed`);
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
      check(run?.trigger === 'schedule' && run.status === 'completed', `run row is ${JSON.stringify(run)}, expected a schedule run completed`);
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
      check(run?.status === 'failed' && run.fetched === 4, `run row is ${JSON.stringify(run)}, expected failed after 4 rows`);
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
      check(harness.accepted().some((message) => message.template.name === 'project_brochure'), 'expected the brochure to be sent');
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
];

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
    () => harness.accepted().find((accepted) => accepted.phone === lead.phone && accepted.template.name === 'project_update_template'),
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
    { db, temporal: env.client, taskQueue: harness.taskQueue, sendTaskQueue: harness.sendTaskQueue, getCtaKeyring: CTA_KEYRING, log: () => {} },
    { leadId: String(cta.leadId), token: query.get('token'), action: query.get('action'), userAgent: 'Mozilla/5.0 (Linux; Android 14)', isPreview: false },
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
  const emulator = await startInteraktEmulator({ apiKey: SYNC_KEY, autoWebhooks: false, templatePageSize: 2, templates: SYNC_TEMPLATES });
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
      getInteraktTemplateClient: () =>
        createInteraktTemplateClient({ baseUrl: emulator.baseUrl, getApiKey: () => SYNC_KEY, timeoutMs: 10_000, fetch: interceptingFetch }),
    }),
  });
  const running = worker.run();
  const app = express();
  app.use(express.json());
  app.use('/templates', templateSyncRouter({ db, temporal: env.client, taskQueue }));
  app.use(errorHandler(() => {}));
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

/** Waits for the run's end and throws unless it ended as the scenario says; returns its result. */
async function awaitEnding(scenario: Scenario, handle: WorkflowHandle): Promise<unknown> {
  const outcome = await handle.result().then(
    (result: unknown) => ({ result }),
    (error: unknown) => ({ error }),
  );
  const ends = scenario.ends;
  if ('completes' in ends) {
    if ('error' in outcome) throw new Error(`Scenario ${scenario.name} failed (${String(outcome.error)}), expected ${JSON.stringify(ends.completes)}`);
    const result = outcome.result as Record<string, unknown>;
    for (const [key, value] of Object.entries(ends.completes)) {
      if (result?.[key] !== value) throw new Error(`Scenario ${scenario.name} ended as ${JSON.stringify(result)}, expected ${JSON.stringify(ends.completes)}`);
    }
    return result;
  }
  if (!('error' in outcome) || !(outcome.error instanceof WorkflowFailedError)) {
    throw new Error(`Scenario ${scenario.name} ended as ${JSON.stringify(outcome)}, expected the run to fail with ${ends.fails}`);
  }
  const message = outcome.error.cause?.message ?? '';
  if (!ends.fails.test(message)) throw new Error(`Scenario ${scenario.name} failed with "${message}", expected ${ends.fails}`);
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
  const scenarios = prefixes.length === 0 ? SCENARIOS : SCENARIOS.filter((scenario) => prefixes.some((prefix) => scenario.name.startsWith(prefix)));
  if (scenarios.length === 0) {
    throw new Error(`--only ${prefixes.join(', ')} matches no scenario; there are:\n${SCENARIOS.map((scenario) => `  ${scenario.name}`).join('\n')}`);
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
  try {
    CTA_KEYRING = ctaKeyringReader(db, createSecretBox(generateSecretKey()));
    harness = await startDripHarness({ db, connection: env.nativeConnection, namespace: env.namespace ?? 'default', client: env.client, getCtaKeyring: CTA_KEYRING });
    sync = await startSyncRig(env);
    const context: ScenarioContext = { env, db, harness, sync };
    const recorded: { file: string; text: string; summary: string }[] = [];
    // One at a time, so no scenario's time skipping or faults reach into another's history.
    for (const scenario of scenarios) {
      const handle = await scenario.run(context);
      const result = await awaitEnding(scenario, handle);
      await scenario.verify?.(context, result);
      const history = await handle.fetchHistory();
      recorded.push({
        file: historyPath(scenario.name, label),
        text: `${historyToJSON(history)}\n`,
        summary: `${history.events?.length ?? 0} events, ${'completes' in scenario.ends ? 'completed' : 'failed'}`,
      });
    }
    // Written only once every scenario succeeded, so a failed run leaves no partial set behind.
    mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const { file, text, summary } of recorded) {
      writeFileSync(file, text);
      console.log(`wrote ${path.relative(REPO_ROOT, file)} (${summary})`);
    }
  } finally {
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
