/**
 * `npm run bench:cta-clicks -- [--leads 1200] [--baseline-leads 100] [--rate 50] [--duration 20]
 *                              [--repeats 0.1] [--rounds 2] [--warmup 2] [--breakdown]
 *                              [--profile-api <dir>] [--record] [--keep]`
 *
 * Click latency of the CTA link endpoint (`GET /track/:leadId?token=…&action=…`, issue 4, target
 * T4): a phone opens the signed link, the API checks the token, records the answer in one
 * transaction and signal-with-starts `cta-<leadId>-<flowId>`, and only then answers the page; so
 * request → response is an upper bound of request → signal acknowledged. Next to it, in the same
 * run and at the same rate, a bare `workflow.getHandle(id).signal()` from this process against the
 * same dev server: what Temporal itself costs. Goal: click p99 < 50 ms. See bench/README.md.
 *
 * Set-up (untimed): dev server, Interakt emulator, worker and API as child processes, one CTA flow
 * and `--leads` + `--baseline-leads` leads put in it through the API; the bench waits until every
 * interactive message is at the emulator, whose recorded button values are the real signed links.
 *
 * Load is open-loop at `--rate` arrivals per second: first clicks (alternately interested and not
 * interested) on leads not clicked before, and `--repeats` of the arrivals a repeat of a link that
 * was already clicked and answered. Each click is a new connection with a phone browser's
 * User-Agent. Bare and ours alternate in `--rounds` rounds, ABBA (bare, ours, ours, bare, ...).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { eq } from 'drizzle-orm';
import { generateApiKey } from '../src/api/auth';
import { signCtaToken, verifyCtaToken, type CtaKeyring } from '../src/cta/tokens';
import { openDb, type Db } from '../src/db/client';
import { migrate } from '../src/db/migrate';
import { createApiKey, type CtaFlow } from '../src/db/queries';
import { ctaEmulatorTemplates, INTERAKT_API_PREFIX, type AcceptedMessage } from '../src/emulators/interakt';
import { generateSecretKey } from '../src/settings/secret-box';
import { ctaClickSignal, ctaWorkflowId, type CtaAction } from '../src/cta/contract';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { seedTemplates } from '../test/support/templates';
import { appendBenchResult, insertBenchLeads, sqliteFileSize } from './support/bench-files';
import { jsonClient, runClosedLoop } from './support/load';
import { describeMachine, machineLine, type Machine } from './support/machine';
import { runOpenLoop, type OpenLoopResult } from './support/open-loop';
import { cpuDelta, cpuSnapshot, machineCpu, MemorySampler } from './support/sampler';
import { fixed, markdownTable, mib, percentile, type LatencySummary } from './support/stats';
import {
  Children,
  freePort,
  NAMESPACE,
  startDevServer,
  startNodeChild,
  waitForHttp,
  waitForPoller,
} from './support/system';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'cta-clicks.md');
const TASK_QUEUE = 'dripline-bench';
const EMULATOR_KEY = 'bench-emulator-key';
const GOAL_P99_MS = 50;
/** Far above the 4.5/s account default: set-up sends one message per lead and should not take minutes. */
const SENDS_PER_SECOND = 500;
const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.6613.146 Mobile Safari/537.36';
/** A signal no handler takes: the workflow buffers it and carries on waiting, so the baseline changes nothing. */
const NOOP_SIGNAL = 'benchNoop';
const PROCESSES = ['temporal', 'worker', 'api', 'emulator', 'bench'] as const;

interface Options {
  leads: number;
  baselineLeads: number;
  rate: number;
  duration: number;
  repeats: number;
  rounds: number;
  warmup: number;
  /** Run bench/support/instrumented-click-api.ts instead of src/api/server.ts: where a click's time goes. */
  breakdown: boolean;
  /** Directory for a V8 CPU profile of the API process (`node --cpu-prof`), written when it exits. */
  profileApi: string | undefined;
  record: boolean;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      leads: { type: 'string', default: '1200' },
      'baseline-leads': { type: 'string', default: '100' },
      rate: { type: 'string', default: '50' },
      duration: { type: 'string', default: '20' },
      repeats: { type: 'string', default: '0.1' },
      rounds: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '2' },
      breakdown: { type: 'boolean', default: false },
      'profile-api': { type: 'string' },
      record: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const number = (name: string, raw: string | undefined, min: number, integer = true): number => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
      throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got "${raw}"`);
    }
    return value;
  };
  const options: Options = {
    leads: number('leads', values.leads, 1),
    baselineLeads: number('baseline-leads', values['baseline-leads'], 1),
    rate: number('rate', values.rate, 1, false),
    duration: number('duration', values.duration, 1, false),
    repeats: number('repeats', values.repeats, 0, false),
    rounds: number('rounds', values.rounds, 1),
    warmup: number('warmup', values.warmup, 0, false),
    breakdown: values.breakdown ?? false,
    profileApi: values['profile-api'] && path.resolve(values['profile-api']),
    record: values.record ?? false,
    keep: values.keep ?? false,
  };
  if (options.repeats >= 1) throw new Error('--repeats is a share of the clicks, below 1');
  const firstClicksNeeded = Math.ceil(options.rate * (options.duration + options.warmup));
  if (firstClicksNeeded > options.leads)
    throw new Error(`--leads must be at least ${firstClicksNeeded} (rate × (duration + warmup) first clicks)`);
  return options;
}

/** The two signed links of one lead's interactive message, as the emulator recorded them. */
interface LeadLinks {
  leadId: number;
  workflowId: string;
  urls: Record<CtaAction, string>;
}

type ClickKind = 'first' | 'repeat';

interface ClickResult {
  kind: ClickKind;
  leadId: number;
  action: CtaAction;
  status: number;
  /** The page said what it should: the answer for a first click, "already" for a repeat. */
  pageOk: boolean;
}

type PathKind = 'bare' | 'ours';

interface SegmentResult {
  label: string;
  kind: PathKind;
  warmup: boolean;
  load: OpenLoopResult<ClickResult | null>;
  cpuSeconds: Map<string, number>;
  machineBusySeconds: number;
  stealSeconds: number;
  /** With --breakdown, ours only: where the API spent each click's time. */
  breakdown?: ClickBreakdown;
}

type ClickStage = 'handler' | 'keyring' | 'txWait' | 'txHold' | 'signal';

interface ClickBreakdown {
  stages: Record<ClickStage, LatencySummary>;
  sums: Record<ClickStage, number>;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const command = `npm run bench:cta-clicks${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-bench-cta-'));
  const children = new Children(dir);
  let db: Db | undefined;
  let connection: Connection | undefined;
  let exitCode = 0;
  const runStarted = Date.now();
  try {
    say(`state in ${dir}`);
    const server = await startDevServer(children, dir);
    say(`dev server at ${server.address}`);

    const apiPort = await freePort();
    const emulatorPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
    const databaseUrl = `file:${path.join(dir, 'crm.db')}`;
    db = await openDb(databaseUrl);
    await migrate(db);
    // Message Master as after a template sync from the emulator, whose CTA buttons open this API.
    await seedTemplates(db, ctaEmulatorTemplates(apiUrl));
    const totalLeads = options.leads + options.baselineLeads;
    const leadIds = await insertBenchLeads(db, totalLeads);
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'bench', keyHash, keyPrefix });

    const childEnv = {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      INTERAKT_BASE_URL: `${emulatorUrl}${INTERAKT_API_PREFIX}`,
      INTERAKT_API_KEY: EMULATOR_KEY,
      INTERAKT_SENDS_PER_SECOND: String(SENDS_PER_SECOND),
      EMULATOR_PORT: String(emulatorPort),
      PUBLIC_BASE_URL: apiUrl,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      // The CTA keyring is sealed with it; API and worker must share it. A fresh one per run.
      DRIPLINE_SECRET_KEY: generateSecretKey(),
    };
    // Its own process, so the brochure sends it takes during the load do not share the load generator's event loop.
    startNodeChild(children, 'emulator', 'src/emulators/main.ts', childEnv);
    startNodeChild(children, 'worker', 'src/worker/main.ts', childEnv);
    const profileArgs = options.profileApi ? ['--cpu-prof', `--cpu-prof-dir=${options.profileApi}`] : [];
    startNodeChild(
      children,
      'api',
      options.breakdown ? 'bench/support/instrumented-click-api.ts' : 'src/api/server.ts',
      childEnv,
      profileArgs,
    );
    await waitForHttp(children, `${emulatorUrl}/__emulator/health`);
    await waitForHttp(children, `${apiUrl}/health`);
    await waitForPoller(children, server.address, TASK_QUEUE);
    say('emulator, worker and API up');

    const pids = new Map(PROCESSES.map((name) => [name, name === 'bench' ? process.pid : children.pid(name)]));
    const sampler = new MemorySampler(pids);
    sampler.start(500);

    const api = jsonClient(apiUrl, key, 4);
    const flow = await createFlow(api);
    const setupStarted = Date.now();
    await startLeads(api, flow.id, leadIds);
    const links = await waitForLinks(children, emulatorUrl, apiUrl, flow.id, totalLeads);
    await waitForRunsSent(db, flow.id, totalLeads);
    // A run is `sent` before its workflow has handled the send's result: let that backlog drain.
    await waitForQuiet(children, pids, ['worker', 'temporal']);
    api.close();
    say(
      `${totalLeads} leads in flow ${flow.id}, every interactive message at the emulator and every run sent (${fixed((Date.now() - setupStarted) / 1000)} s)`,
    );

    const byLead = new Map(links.map((link) => [link.leadId, link]));
    const ours = leadIds.slice(0, options.leads).map((leadId) => byLead.get(leadId)!);
    const baseline = leadIds.slice(options.leads).map((leadId) => byLead.get(leadId)!);
    if (ours.some((link) => !link) || baseline.some((link) => !link))
      throw new Error('a lead has no interactive message at the emulator');

    connection = await Connection.connect({ address: server.address });
    const temporal = new Client({ connection, namespace: NAMESPACE });
    const clicker = new Clicker(ours, options.repeats);
    let bareNext = 0;
    const bareJob = async (): Promise<null> => {
      const { workflowId } = baseline[bareNext++ % baseline.length]!;
      await temporal.workflow.getHandle(workflowId).signal(NOOP_SIGNAL);
      return null;
    };

    const runSegment = async (
      label: string,
      kind: PathKind,
      seconds: number,
      warmup = false,
    ): Promise<SegmentResult> => {
      children.assertHealthy();
      sampler.enterPhase(warmup ? 'warm-up' : kind);
      const cpuBefore = cpuSnapshot(pids);
      const machineBefore = machineCpu();
      const count = Math.round(options.rate * seconds);
      const measureApi = options.breakdown && kind === 'ours';
      if (measureApi) await fetch(`${apiUrl}/__bench/stats`);
      const load = await runOpenLoop<ClickResult | null>(
        options.rate,
        count,
        kind === 'bare' ? bareJob : () => clicker.click(),
      );
      const machineAfter = machineCpu();
      const result: SegmentResult = {
        label,
        kind,
        warmup,
        load,
        cpuSeconds: cpuDelta(cpuBefore, cpuSnapshot(pids)),
        machineBusySeconds: machineAfter.busy - machineBefore.busy,
        stealSeconds: machineAfter.steal - machineBefore.steal,
        ...(measureApi && { breakdown: (await (await fetch(`${apiUrl}/__bench/stats`)).json()) as ClickBreakdown }),
      };
      const latency = load.samples.map((sample) => sample.latencyMs).sort((a, b) => a - b);
      say(
        `${label}: ${count} in ${fixed(load.wallMs / 1000)} s, p50 ${fixed(percentile(latency, 50))} ms, p99 ${fixed(percentile(latency, 99))} ms, ` +
          `max ${fixed(latency.at(-1) ?? Number.NaN)} ms, failed ${failures(result)}`,
      );
      return result;
    };

    const segments: SegmentResult[] = [];
    if (options.warmup > 0) {
      // JIT, connections and SQLite pages on both paths; not reported.
      segments.push(await runSegment('warm-up ours', 'ours', options.warmup, true));
      segments.push(await runSegment('warm-up bare', 'bare', options.warmup, true));
    }
    for (let round = 0; round < options.rounds; round++) {
      const order: PathKind[] = round % 2 === 0 ? ['bare', 'ours'] : ['ours', 'bare'];
      for (const kind of order)
        segments.push(await runSegment(`round ${round + 1} ${kind}`, kind, options.duration / options.rounds));
    }
    const loadEnded = Date.now();
    sampler.enterPhase('verify');

    const outcome = await verifyOutcome(db, flow.id, clicker, baseline, loadEnded);
    const timedFirst = segments
      .filter((segment) => !segment.warmup && segment.kind === 'ours')
      .flatMap((segment) => segment.load.samples)
      .filter((sample) => sample.result?.kind === 'first');
    const timeline = await signalTimeline(temporal, flow.id, timedFirst);
    sampler.stop();

    const report = renderReport({
      command,
      options,
      flow,
      segments,
      outcome,
      timeline,
      tokenCheckUs: measureTokenCheck(),
      sampler,
      machine: await describeMachine(),
      files: { temporal: sqliteFileSize(server.dbFile), crm: sqliteFileSize(path.join(dir, 'crm.db')) },
      runSeconds: (Date.now() - runStarted) / 1000,
    });
    process.stdout.write(`\n${report.markdown}\n`);
    if (options.record) {
      appendBenchResult(RESULTS_FILE, 'CTA click latency bench results', 'bench:cta-clicks', report.markdown);
      say(`recorded in ${path.relative(process.cwd(), RESULTS_FILE)}`);
    }
    if (!report.ok) exitCode = 1;
  } catch (error) {
    exitCode = 1;
    process.stderr.write(
      `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  } finally {
    await connection?.close().catch(() => {});
    await children.stopAll();
    await db?.close().catch(() => {});
    if (options.keep) say(`kept ${dir} (child logs, temporal.db, crm.db)`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

type Api = ReturnType<typeof jsonClient>;

/** Waits of a day and more: nothing but the clicks moves a run during the bench. */
async function createFlow(api: Api): Promise<CtaFlow> {
  const { status, body } = await api.request('POST', '/cta/flows', {
    name: 'Bench Palm Grove',
    templateName: 'project_update_template',
    projectName: 'Palm Grove Residences',
    brochureTemplateName: 'project_brochure',
    brochureUrl: 'https://example.com/palm-grove.pdf',
    brochureFileName: 'Palm Grove.pdf',
  });
  if (status !== 201) throw new Error(`POST /cta/flows: HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}`);
  return body as CtaFlow;
}

/** Through the API, 100 leads per call (the route starts them one after another), 4 calls at once. */
async function startLeads(api: Api, flowId: number, leadIds: number[]): Promise<void> {
  const batch = 100;
  const result = await runClosedLoop(Math.ceil(leadIds.length / batch), 4, async (index) => {
    const slice = leadIds.slice(index * batch, (index + 1) * batch);
    const { status, body } = await api.request('POST', `/cta/flows/${flowId}/start`, { leadIds: slice });
    if (status !== 201 || body?.started?.length !== slice.length)
      throw new Error(`HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}`);
  });
  if (result.errors.length > 0) throw new Error(`${result.errors.length} start calls failed: ${result.errors[0]}`);
}

/** Every lead's signed links, from the button values the emulator recorded for its interactive message. */
async function waitForLinks(
  children: Children,
  emulatorUrl: string,
  apiUrl: string,
  flowId: number,
  expected: number,
): Promise<LeadLinks[]> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    children.assertHealthy();
    const response = await fetch(`${emulatorUrl}/__emulator/messages`);
    const { messages } = (await response.json()) as { messages: AcceptedMessage[] };
    const interactive = messages.filter((message) => message.template.name === 'project_update_template');
    if (interactive.length >= expected) return interactive.map((message) => linksOf(message, apiUrl, flowId));
    if (Date.now() > deadline)
      throw new Error(`only ${interactive.length} of ${expected} interactive messages reached the emulator`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

function linksOf(message: AcceptedMessage, apiUrl: string, flowId: number): LeadLinks {
  // The flow's default buttons: 0 = interested, 1 = not interested; each value is `<leadId>?token=…&action=…`.
  const interested = message.buttonValues['0']?.[0];
  const notInterested = message.buttonValues['1']?.[0];
  const leadId = Number(/^(\d+)\?/.exec(interested ?? '')?.[1]);
  if (!interested || !notInterested || !Number.isInteger(leadId))
    throw new Error(`message ${message.id} has no CTA button values`);
  return {
    leadId,
    workflowId: ctaWorkflowId(leadId, flowId),
    urls: { interested: `${apiUrl}/track/${interested}`, not_interested: `${apiUrl}/track/${notInterested}` },
  };
}

/** Until each named process used under 5% of a core over 2 s (the set-up's work is done), at most 2 minutes. */
async function waitForQuiet(children: Children, pids: ReadonlyMap<string, number>, names: string[]): Promise<void> {
  const watched = new Map(names.map((name) => [name, pids.get(name)!]));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    children.assertHealthy();
    const before = cpuSnapshot(watched);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const used = cpuDelta(before, cpuSnapshot(watched));
    if ([...used.values()].every((seconds) => seconds < 0.1)) return;
  }
  say('worker and dev server still busy after 2 minutes of waiting; measuring anyway');
}

/** The worker has recorded every send: each workflow is idle in its wait for a click. */
async function waitForRunsSent(db: Db, flowId: number, expected: number): Promise<void> {
  const t = db.schema.ctaFlowRuns;
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    const rows = await db.orm.select({ status: t.status }).from(t).where(eq(t.flowId, flowId));
    const sent = rows.filter((row) => row.status === 'sent').length;
    if (sent >= expected) return;
    if (Date.now() > deadline) throw new Error(`only ${sent} of ${expected} runs reached sent`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Hands out clicks: first clicks on fresh leads, alternating answers, and repeats of answered links. */
class Clicker {
  private next = 0;
  /** Links whose first click was answered: what a repeat taps again. */
  private readonly answered: { link: LeadLinks; action: CtaAction }[] = [];
  /** Every first click made (warm-up included), by lead. */
  readonly firstClicks = new Map<number, CtaAction>();
  /** Repeat clicks answered with 200, by lead. */
  readonly repeatClicks = new Map<number, number>();

  constructor(
    private readonly leads: readonly LeadLinks[],
    private readonly repeatShare: number,
  ) {}

  async click(): Promise<ClickResult> {
    let kind: ClickKind;
    let link: LeadLinks;
    let action: CtaAction;
    if (this.answered.length > 0 && Math.random() < this.repeatShare) {
      kind = 'repeat';
      ({ link, action } = this.answered[Math.floor(Math.random() * this.answered.length)]!);
    } else {
      kind = 'first';
      const fresh = this.leads[this.next];
      if (!fresh) throw new Error('ran out of leads to click: raise --leads');
      link = fresh;
      action = this.next % 2 === 0 ? 'interested' : 'not_interested';
      this.next += 1;
      this.firstClicks.set(link.leadId, action);
    }
    const { status, body } = await openLink(link.urls[action]);
    const already = /already/i.test(body);
    const pageOk =
      kind === 'repeat'
        ? already
        : !already && body.includes(action === 'interested' ? 'Thank you' : 'Thanks for letting us know');
    if (status === 200) {
      if (kind === 'first') this.answered.push({ link, action });
      else this.repeatClicks.set(link.leadId, (this.repeatClicks.get(link.leadId) ?? 0) + 1);
    }
    return { kind, leadId: link.leadId, action, status, pageOk };
  }
}

/** A phone opening the link: a new connection (each tap is another phone), a mobile browser's headers. */
function openLink(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      url,
      {
        agent: false,
        headers: {
          'user-agent': PHONE_UA,
          accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
          'accept-language': 'en-IN,en;q=0.9',
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
  });
}

function failures(segment: SegmentResult): number {
  return segment.load.samples.filter(
    (sample) => sample.error !== undefined || (sample.result !== null && sample.result?.status !== 200),
  ).length;
}

interface Outcome {
  firstClicks: number;
  /** Leads clicked first whose interactions hold exactly one `decided` row, with the clicked action. */
  decidedOnce: number;
  repeatRowsExpected: number;
  repeatRowsFound: number;
  /** Interactions of leads the bench never clicked (the baseline's or others): must be 0. */
  strayRows: number;
  /** Baseline runs with a decision: must be 0 (the no-op signal changes nothing). */
  baselineDecided: number;
  /** Runs of first-clicked leads the workflow closed with the clicked answer, and when the last one did. */
  runsDone: number;
  runsDoneAfterSeconds: number;
}

/**
 * The database after the load: one decided interaction per first click, one repeat row per repeat,
 * nothing for the baseline; then (bounded wait) every clicked run closed by its workflow with the
 * clicked answer, which it only does once its signal handler has seen the click.
 */
async function verifyOutcome(
  db: Db,
  flowId: number,
  clicker: Clicker,
  baseline: readonly LeadLinks[],
  loadEnded: number,
): Promise<Outcome> {
  const interactions = await db.orm
    .select({
      leadId: db.schema.ctaInteractions.leadId,
      action: db.schema.ctaInteractions.action,
      result: db.schema.ctaInteractions.result,
    })
    .from(db.schema.ctaInteractions)
    .where(eq(db.schema.ctaInteractions.flowId, flowId));
  const decided = new Map<number, CtaAction[]>();
  const repeats = new Map<number, number>();
  let strayRows = 0;
  for (const row of interactions) {
    if (!clicker.firstClicks.has(row.leadId)) strayRows += 1;
    else if (row.result === 'decided') decided.set(row.leadId, [...(decided.get(row.leadId) ?? []), row.action]);
    else repeats.set(row.leadId, (repeats.get(row.leadId) ?? 0) + 1);
  }
  let decidedOnce = 0;
  for (const [leadId, action] of clicker.firstClicks) {
    const rows = decided.get(leadId) ?? [];
    if (rows.length === 1 && rows[0] === action) decidedOnce += 1;
  }
  const sum = (map: Map<number, number>) => [...map.values()].reduce((total, n) => total + n, 0);

  const t = db.schema.ctaFlowRuns;
  const baselineIds = new Set(baseline.map((link) => link.leadId));
  let runsDone: number;
  let baselineDecided: number;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const runs = await db.orm
      .select({ leadId: t.leadId, status: t.status, decision: t.decision })
      .from(t)
      .where(eq(t.flowId, flowId));
    runsDone = runs.filter((run) => clicker.firstClicks.get(run.leadId) === run.status).length;
    baselineDecided = runs.filter((run) => baselineIds.has(run.leadId) && run.decision !== null).length;
    if (runsDone >= clicker.firstClicks.size || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    firstClicks: clicker.firstClicks.size,
    decidedOnce,
    repeatRowsExpected: sum(clicker.repeatClicks),
    repeatRowsFound: sum(repeats),
    strayRows,
    baselineDecided,
    runsDone,
    runsDoneAfterSeconds: (Date.now() - loadEnded) / 1000,
  };
}

interface Timeline {
  /** Click due → `WorkflowExecutionSignaled` in the history: the signal acknowledged by the server. */
  ackMs: number[];
  /** Signal recorded → the page fully received by the phone. */
  afterAckMs: number[];
  /** Click due → the next `WorkflowTaskCompleted`: the handler ran in the worker. */
  visibleMs: number[];
  missing: number;
}

/**
 * Where each timed first click's time went, from its workflow's history. The dev server stamps
 * events with the same clock as this process, so the stamps and the clicks' times compare.
 */
async function signalTimeline(
  temporal: Client,
  flowId: number,
  samples: OpenLoopResult<ClickResult | null>['samples'],
): Promise<Timeline> {
  const timeline: Timeline = { ackMs: [], afterAckMs: [], visibleMs: [], missing: 0 };
  await runClosedLoop(samples.length, 4, async (index) => {
    const sample = samples[index]!;
    const history = await temporal.workflow.getHandle(ctaWorkflowId(sample.result!.leadId, flowId)).fetchHistory();
    const events = history.events ?? [];
    const signalled = events.findIndex(
      (event) => event.workflowExecutionSignaledEventAttributes?.signalName === ctaClickSignal.name,
    );
    const completed = events.findIndex((event, i) => i > signalled && event.workflowTaskCompletedEventAttributes);
    if (signalled === -1 || completed === -1) {
      timeline.missing += 1;
      return;
    }
    const signalledAt = tsToMs(events[signalled]!.eventTime);
    timeline.ackMs.push(signalledAt - sample.dueAtEpochMs);
    timeline.afterAckMs.push(sample.dueAtEpochMs + sample.latencyMs - signalledAt);
    timeline.visibleMs.push(tsToMs(events[completed]!.eventTime) - sample.dueAtEpochMs);
  });
  return timeline;
}

/** Mean µs of one `verifyCtaToken` on a valid token, in this process (T4: token check ≤ 1 ms). */
function measureTokenCheck(): number {
  const key = { kid: 'bench', secret: randomBytes(32) };
  const keyring: CtaKeyring = { current: key, keys: new Map([[key.kid, key]]) };
  const token = signCtaToken(keyring, {
    leadId: 12345,
    flowId: 1,
    action: 'interested',
    expiresAt: new Date(Date.now() + 86_400_000),
  });
  const now = new Date();
  const rounds = 20_000;
  for (let i = 0; i < 2_000; i++) verifyCtaToken(keyring, token, { leadId: 12345, action: 'interested' }, now);
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    if (!verifyCtaToken(keyring, token, { leadId: 12345, action: 'interested' }, now).ok)
      throw new Error('the bench token did not verify');
  }
  return ((performance.now() - t0) * 1000) / rounds;
}

interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function summary(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

interface ReportInput {
  command: string;
  options: Options;
  flow: CtaFlow;
  segments: SegmentResult[];
  outcome: Outcome;
  timeline: Timeline;
  tokenCheckUs: number;
  sampler: MemorySampler;
  machine: Machine;
  files: { temporal: number; crm: number };
  runSeconds: number;
}

function renderReport(input: ReportInput): { markdown: string; ok: boolean } {
  const { options, outcome, timeline, machine, sampler } = input;
  const timed = input.segments.filter((segment) => !segment.warmup);
  const samplesOf = (kind: PathKind) =>
    timed.filter((segment) => segment.kind === kind).flatMap((segment) => segment.load.samples);
  const ours = samplesOf('ours');
  const bare = samplesOf('bare');
  const latencies = (samples: typeof ours) => samples.map((sample) => sample.latencyMs);
  const columns = {
    first: summary(latencies(ours.filter((sample) => sample.result?.kind === 'first'))),
    repeat: summary(latencies(ours.filter((sample) => sample.result?.kind === 'repeat'))),
    all: summary(latencies(ours)),
    bare: summary(latencies(bare)),
  };
  const failedOf = (samples: typeof ours) =>
    samples.filter((sample) => sample.error !== undefined || (sample.result !== null && sample.result?.status !== 200))
      .length;
  const wrongPages = input.segments
    .flatMap((segment) => segment.load.samples)
    .filter((sample) => sample.result && !sample.result.pageOk).length;
  const allFailed = input.segments.reduce((total, segment) => total + failures(segment), 0);

  const stat = (key: keyof Summary) => (value: Summary) => (key === 'count' ? String(value[key]) : fixed(value[key]));
  const rows = (['p50', 'p95', 'p99', 'max'] as const).map((key) => [
    `${key} ms`,
    ...[columns.first, columns.repeat, columns.all, columns.bare].map(stat(key)),
    fixed(columns.all[key] - columns.bare[key]),
  ]);
  const table = markdownTable(
    ['', 'ours: first clicks', 'ours: repeats', 'ours: all clicks', 'bare `signal` RPC', 'ours − bare (all)'],
    [
      ...rows,
      ['requests', ...[columns.first, columns.repeat, columns.all, columns.bare].map(stat('count')), ''],
      [
        'non-200 / failed',
        String(failedOf(ours.filter((s) => s.result?.kind === 'first'))),
        String(failedOf(ours.filter((s) => s.result?.kind === 'repeat'))),
        String(failedOf(ours)),
        String(failedOf(bare)),
        '',
      ],
    ],
  );

  const ack = summary(timeline.ackMs);
  const afterAck = summary(timeline.afterAckMs);
  const visible = summary(timeline.visibleMs);
  const timelineTable = markdownTable(
    ['first clicks (timed)', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
    [
      ['click → signal recorded in the history (token, reads, transaction, RPC in)', ack],
      ['signal recorded → page received (RPC reply, page, response)', afterAck],
      ['click → signal visible in the workflow (next workflow task completed)', visible],
    ].map(([label, value]) => [
      label as string,
      ...(['p50', 'p95', 'p99', 'max'] as const).map((key) => fixed((value as Summary)[key])),
    ]),
  );

  const segmentTable = markdownTable(
    ['segment', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'max start lag ms', 'failed'],
    input.segments.map((segment) => {
      const s = summary(latencies(segment.load.samples));
      const lag = Math.max(...segment.load.samples.map((sample) => sample.startLagMs));
      return [
        `${segment.label}${segment.warmup ? ' (not reported)' : ''}`,
        String(s.count),
        fixed(s.p50),
        fixed(s.p99),
        fixed(s.max),
        fixed(lag),
        String(failures(segment)),
      ];
    }),
  );

  const cpuTable = markdownTable(
    [
      'path',
      ...PROCESSES.map((name) => (name === 'temporal' ? 'dev server' : name)),
      'cores busy',
      'other processes',
      'stolen by host',
    ],
    (['ours', 'bare'] as const).map((kind) => {
      const segments = timed.filter((segment) => segment.kind === kind);
      const wall = segments.reduce((total, segment) => total + segment.load.wallMs, 0) / 1000;
      const seconds = (name: string) =>
        segments.reduce((total, segment) => total + (segment.cpuSeconds.get(name) ?? Number.NaN), 0);
      const ourTotal = PROCESSES.reduce((total, name) => total + seconds(name), 0);
      const busy = segments.reduce((total, segment) => total + segment.machineBusySeconds, 0);
      const steal = segments.reduce((total, segment) => total + segment.stealSeconds, 0);
      const other = Math.max(0, busy - ourTotal);
      return [
        kind,
        ...PROCESSES.map((name) => `${fixed(seconds(name))} s (${fixed((seconds(name) / wall) * 100, 0)}%)`),
        `${fixed(ourTotal / wall, 2)} of ${machine.cores}`,
        `${fixed(other)} s (${fixed((other / wall) * 100, 0)}%)`,
        `${fixed(steal)} s (${fixed((steal / wall / machine.cores) * 100, 0)}%)`,
      ];
    }),
  );

  const memory = (name: string) => {
    const stats = sampler.stats(name);
    return stats ? `peak ${mib(stats.peakRss)}, final ${mib(stats.lastRss)}` : 'n/a';
  };

  const checks = [
    { ok: allFailed === 0, text: `${allFailed} clicks or signals not answered 200 / failed (warm-up included)` },
    {
      ok: wrongPages === 0,
      text: `${wrongPages} pages that did not say what they should (the answer for a first click, "already" for a repeat)`,
    },
    {
      ok: outcome.decidedOnce === outcome.firstClicks,
      text: `${outcome.decidedOnce} of ${outcome.firstClicks} first-clicked leads have exactly one decided interaction, with the clicked answer`,
    },
    {
      ok: outcome.repeatRowsFound === outcome.repeatRowsExpected,
      text: `${outcome.repeatRowsFound} repeat interactions recorded for ${outcome.repeatRowsExpected} repeat clicks (a repeat decides nothing)`,
    },
    {
      ok: outcome.strayRows === 0 && outcome.baselineDecided === 0,
      text: `${outcome.strayRows} interactions and ${outcome.baselineDecided} decisions on leads not clicked (the baseline's no-op signals change nothing)`,
    },
    {
      ok: outcome.runsDone === outcome.firstClicks,
      text: `${outcome.runsDone} of ${outcome.firstClicks} clicked runs closed by their workflow with the clicked answer, ${fixed(outcome.runsDoneAfterSeconds)} s after the load ended (brochures and notes included)`,
    },
    {
      ok: timeline.missing === 0,
      text: `${timeline.missing} timed first clicks whose workflow history has no click signal followed by a completed workflow task`,
    },
  ];
  const ok = checks.every((check) => check.ok);
  const goalMet = columns.all.p99 < GOAL_P99_MS;
  const t4 = [
    `token check ${fixed(input.tokenCheckUs)} µs ${input.tokenCheckUs <= 1000 ? '≤' : '>'} 1 ms`,
    `click → signal acknowledged p50 ${fixed(ack.p50)} ${ack.p50 <= 20 ? '≤' : '>'} 20 ms, p95 ${fixed(ack.p95)} ${ack.p95 <= 50 ? '≤' : '>'} 50 ms, p99 ${fixed(ack.p99)} ${ack.p99 <= 150 ? '≤' : '>'} 150 ms`,
    `page sent p99 ${fixed(columns.all.p99)} ${columns.all.p99 <= 200 ? '≤' : '>'} 200 ms`,
    `visible in the workflow p95 ${fixed(visible.p95)} ${visible.p95 <= 500 ? '≤' : '>'} 500 ms, p99 ${fixed(visible.p99)} ${visible.p99 <= 1000 ? '≤' : '>'} 1,000 ms`,
    `repeated clicks: ${outcome.repeatRowsFound === outcome.repeatRowsExpected && outcome.decidedOnce === outcome.firstClicks ? 'no second outcome' : 'SEE CHECKS'}`,
  ];

  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const segmentSeconds = options.duration / options.rounds;
  const markdown = [
    `## CTA click bench, ${date}`,
    '',
    `Command: \`${input.command}\` (whole run ${fixed(input.runSeconds, 0)} s)`,
    '',
    `Machine: ${machineLine(machine)}`,
    '',
    'Set-up: dev server persisted to a temp SQLite file with the `npm start` settings; the Interakt emulator, the real worker ' +
      `(\`INTERAKT_SENDS_PER_SECOND=${SENDS_PER_SECOND}\`) and the real API (\`src/api/server.ts\`) as child processes on a fresh CRM SQLite file, with a fresh \`DRIPLINE_SECRET_KEY\`. ` +
      `One CTA flow (${input.flow.name}, reminder after ${input.flow.reminderAfterSeconds} s), ${options.leads} leads for clicks and ${options.baselineLeads} for the baseline put in it through the API; ` +
      "every interactive message at the emulator, every run `sent` and worker and dev server idle before the load; links taken from the emulator's recorded button values." +
      (options.breakdown
        ? ' **API = bench/support/instrumented-click-api.ts (`--breakdown`), not src/api/server.ts.**'
        : '') +
      (options.profileApi ? ' **API under `node --cpu-prof`.**' : ''),
    '',
    `Load: open-loop at ${options.rate}/s (latency counted from when each request was due). ours = \`GET /track/…\`, a new connection per click, phone Chrome User-Agent; ` +
      `first clicks alternate interested / not interested, ~${fixed(options.repeats * 100, 0)}% of clicks repeat an already answered link. ` +
      `bare = \`client.workflow.getHandle(id).signal('${NOOP_SIGNAL}')\` from the bench process on the baseline leads' waiting CTA workflows (a signal no handler takes). ` +
      `Order: ${options.warmup > 0 ? `warm-up ${options.warmup} s of each (not reported), then ` : ''}${timed.map((segment) => segment.label).join(', ')} (${fixed(segmentSeconds)} s each); no waiting between segments.`,
    '',
    table,
    '',
    `**Goal: click p99 < ${GOAL_P99_MS} ms: ${goalMet ? 'met' : 'NOT met'}** (all clicks p99 ${fixed(columns.all.p99)} ms; first clicks ${fixed(columns.first.p99)} ms; the bare signal RPC ${fixed(columns.bare.p99)} ms).`,
    '',
    `T4 (performance-and-reliability.md §11): ${t4.join('; ')}.`,
    '',
    "Where a first click's time goes, from each clicked workflow's history (event times from the dev server, same clock as the bench):",
    '',
    timelineTable,
    '',
    ...renderBreakdown(timed),
    'Segments in the order they ran ("start lag" = how late the generator sent a request; it counts in the latency):',
    '',
    segmentTable,
    '',
    'CPU seconds while each path was timed (in brackets: share of one core; "other processes" = machine-wide busy time outside the bench\'s processes, e.g. another test run):',
    '',
    cpuTable,
    '',
    `Memory (RSS every 500 ms): worker ${memory('worker')}; API ${memory('api')}; dev server ${memory('temporal')}; emulator ${memory('emulator')}; bench ${memory('bench')}. ` +
      `Dev server SQLite ${mib(input.files.temporal)}, CRM SQLite ${mib(input.files.crm)} at the end.`,
    '',
    'Checks:',
    ...checks.map((check) => `- ${check.ok ? 'OK' : 'FAILED'}: ${check.text}`),
    '',
    `Result **${ok ? 'OK' : 'FAILED'}**.`,
  ].join('\n');
  return { markdown, ok };
}

/** Per timed ours segment, with --breakdown: the API's own stopwatches (bench/support/instrumented-click-api.ts). */
function renderBreakdown(segments: SegmentResult[]): string[] {
  const measured = segments.filter((segment) => segment.breakdown);
  if (measured.length === 0) return [];
  const pair = (value: LatencySummary) => `${fixed(value.p50, 2)} / ${fixed(value.p99, 2)}`;
  const table = markdownTable(
    [
      'segment',
      'handler',
      'keyring',
      'tx gate wait + BEGIN',
      'tx held',
      '`signalWithStart`',
      'rest, mean per click (token, reads, page)',
      'event-loop delay',
    ],
    measured.map((segment) => {
      const { stages, sums, eventLoopDelayMs } = segment.breakdown!;
      const rest = (sums.handler - sums.keyring - sums.txWait - sums.txHold - sums.signal) / stages.handler.count;
      return [
        segment.label,
        pair(stages.handler),
        pair(stages.keyring),
        pair(stages.txWait),
        pair(stages.txHold),
        pair(stages.signal),
        fixed(rest, 2),
        `${fixed(eventLoopDelayMs.p50, 2)} / ${fixed(eventLoopDelayMs.p99, 2)}`,
      ];
    }),
  );
  return ['Inside the API (`--breakdown`), p50 / p99 ms per click:', '', table, ''];
}

function say(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}

void main();
