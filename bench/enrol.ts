import { dripWorkflowId } from '../src/drips/contract';
/**
 * `npm run bench:enrol -- [--leads 10000] [--batch 1] [--concurrency 32] [--record]`
 *
 * How fast the API enrols leads in a drip sequence (POST /sequences/:id/assignments: one
 * LeadDripAssignment row and one `drip-<id>` workflow per lead) compared with a bare loop of
 * `client.workflow.start('dripWorkflow')` against the same dev server and worker, in the same run.
 * See bench/README.md for what each number means; the goal is our path ≥ 80% of the bare rate.
 *
 * Paths, each over `--leads` leads on its own sequence:
 *   bare  `client.workflow.start` from this process, `--concurrency` in flight. The assignment
 *         rows it points at are created beforehand (untimed), so the worker does the same work
 *         per workflow as on our path.
 *   ours  the API, `--batch` leads per call (default 1), `--concurrency` calls in flight.
 *   bulk  the API, `--bulk-batch` leads per call (default 100), `--bulk-concurrency` calls in
 *         flight (default 1: the API itself starts up to 32 workflows of a call at once), over
 *         `--bulk-leads` leads (default 5,000, to keep the run near 10 minutes); runs last.
 * bare and ours alternate in `--rounds` rounds (default 4) in ABBA order (bare, ours, ours, bare,
 * ...), so both see the same growth of the dev server's SQLite file and the same backlog of first
 * workflow tasks the worker has not run yet; nothing waits for that backlog between rounds.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { and, count, eq } from 'drizzle-orm';
import { generateApiKey } from '../src/api/auth';
import { openDb, type Db } from '../src/db/client';
import { migrate } from '../src/db/migrate';
import { createApiKey, createAssignments, createSequence, type StepInput } from '../src/db/queries';
import { createInteraktEmulator, INTERAKT_API_PREFIX } from '../src/emulators/interakt';
import { DRIP_SEQUENCE_ID, FLOW_KIND, LEAD_ID, sendTaskQueue } from '../src/shared';
import type { DripStepSnapshot, DripWorkflowInput } from '../src/drips/contract';
import type { dripWorkflow } from '../src/drips/workflow';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { appendBenchResult, insertBenchLeads, sqliteFileSize } from './support/bench-files';
import { describeMachine, machineLine, type Machine } from './support/machine';
import { jsonClient, runClosedLoop, type LoadResult } from './support/load';
import { cpuDelta, cpuSnapshot, machineCpu, MemorySampler } from './support/sampler';
import { fixed, markdownTable, mib, summarise, type LatencySummary } from './support/stats';
import {
  Children,
  freePort,
  NAMESPACE,
  startDevServer,
  startNodeChild,
  waitForHttp,
  waitForPoller,
} from './support/system';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'enrol.md');
const TASK_QUEUE = 'dripline-bench';
const GOAL_SHARE_OF_BARE = 0.8;
/** After the timed segments: how fast the worker clears the backlog of first tasks with no starts competing. */
const DRAIN_SAMPLE_MS = 15_000;

/**
 * The first step is an hour out, so no send falls due during the bench: it measures enrolment
 * (start + first workflow task + the 'started' progress write), not the provider path.
 */
const STEPS: StepInput[] = [
  { templateName: 'drip_day_1', templateLanguage: 'en', delaySeconds: 3_600, variables: { body: [{ field: 'name' }] } },
  {
    templateName: 'drip_day_2',
    templateLanguage: 'en',
    delaySeconds: 86_400,
    variables: { body: [{ field: 'name' }] },
  },
];

type PathKind = 'bare' | 'ours' | 'bulk';

interface Options {
  leads: number;
  batch: number;
  concurrency: number;
  rounds: number;
  bulkLeads: number;
  bulkBatch: number;
  bulkConcurrency: number;
  warmup: number;
  breakdown: boolean;
  /** Directory for a V8 CPU profile of the API process (`node --cpu-prof`), written when it exits. */
  profileApi: string | undefined;
  record: boolean;
  keep: boolean;
}

/** One path's sequence and, per lead, the assignment row made beforehand (bare only). */
interface PathPlan {
  kind: PathKind;
  sequenceId: number;
  targets: { leadId: number; assignmentId?: number }[];
  batch: number;
  concurrency: number;
}

/** A timed stretch of one path over a slice of its targets. */
interface Segment {
  label: string;
  plan: PathPlan;
  from: number;
  to: number;
}

interface SegmentResult {
  segment: Segment;
  started: number;
  load: LoadResult;
  cpuSeconds: Map<string, number>;
  /** CPU seconds the hypervisor gave to others while this VM wanted them (0 on bare metal). */
  stealSeconds: number;
  /** CPU seconds the whole machine was busy (all processes, ours or not). */
  machineBusySeconds: number;
  /** Workflows of the path whose first task the worker had run (assignment 'active') when the segment ended. */
  activeAtEnd: number;
  /** With --breakdown, API segments only: where the API spent the time (bench/support/instrumented-api.ts). */
  breakdown?: ApiBreakdown;
}

interface ApiBreakdown {
  stages: Record<'handler' | 'txWait' | 'txHold' | 'start', LatencySummary>;
  sums: Record<'handler' | 'txWait' | 'txHold' | 'start', number>;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

interface PathResult {
  kind: PathKind;
  plan: PathPlan;
  segments: SegmentResult[];
  started: number;
  wallMs: number;
  latency: LatencySummary;
  errors: number;
  cpuSeconds: Map<string, number>;
  stealSeconds: number;
  machineBusySeconds: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      leads: { type: 'string', default: '10000' },
      batch: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '32' },
      rounds: { type: 'string', default: '4' },
      'bulk-leads': { type: 'string', default: '5000' },
      'bulk-batch': { type: 'string', default: '100' },
      'bulk-concurrency': { type: 'string', default: '1' },
      warmup: { type: 'string', default: '200' },
      breakdown: { type: 'boolean', default: false },
      'profile-api': { type: 'string' },
      record: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const integer = (name: string, raw: string | undefined, min = 1): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${raw}"`);
    return value;
  };
  const options: Options = {
    leads: integer('leads', values.leads),
    batch: integer('batch', values.batch),
    concurrency: integer('concurrency', values.concurrency),
    rounds: integer('rounds', values.rounds),
    bulkLeads: integer('bulk-leads', values['bulk-leads'], 0),
    bulkBatch: integer('bulk-batch', values['bulk-batch']),
    bulkConcurrency: integer('bulk-concurrency', values['bulk-concurrency']),
    warmup: integer('warmup', values.warmup, 0),
    breakdown: values.breakdown ?? false,
    profileApi: values['profile-api'] && path.resolve(values['profile-api']),
    record: values.record ?? false,
    keep: values.keep ?? false,
  };
  if (options.batch > 10_000 || options.bulkBatch > 10_000)
    throw new Error('the API takes at most 10,000 leads per call');
  if (options.bulkLeads > options.leads) throw new Error('--bulk-leads cannot exceed --leads');
  if (options.warmup > options.leads) throw new Error('--warmup cannot exceed --leads');
  return options;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const command = `npm run bench:enrol${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-bench-'));
  const children = new Children(dir);
  let db: Db | undefined;
  let connection: Connection | undefined;
  let emulator: { close(): Promise<void> } | undefined;
  let exitCode = 0;
  const runStarted = Date.now();
  try {
    say(`state in ${dir}`);
    const server = await startDevServer(children, dir);
    say(`dev server at ${server.address}`);

    // Sends happen only when a step falls due (an hour from now), so nothing should reach it.
    const listening = await createInteraktEmulator({ apiKey: 'bench-emulator-key' }).listen(0, '127.0.0.1');
    emulator = listening;

    const databaseUrl = `file:${path.join(dir, 'crm.db')}`;
    db = await openDb(databaseUrl);
    await migrate(db);
    const leadIds = await insertBenchLeads(db, options.leads);
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'bench', keyHash, keyPrefix });
    const plans = await planPaths(db, options, leadIds);
    const segments = planSegments(options, plans);
    say(`${leadIds.length} leads; segments: ${segments.map((segment) => segment.label).join(', ')}`);

    const apiPort = await freePort();
    const childEnv = {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      INTERAKT_BASE_URL: `${listening.url}${INTERAKT_API_PREFIX}`,
      INTERAKT_API_KEY: 'bench-emulator-key',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
    };
    startNodeChild(children, 'worker', 'src/worker/main.ts', childEnv);
    const profileArgs = options.profileApi ? ['--cpu-prof', `--cpu-prof-dir=${options.profileApi}`] : [];
    startNodeChild(
      children,
      'api',
      options.breakdown ? 'bench/support/instrumented-api.ts' : 'src/api/server.ts',
      childEnv,
      profileArgs,
    );
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitForHttp(children, `${apiUrl}/health`);
    await waitForPoller(children, server.address, TASK_QUEUE);
    say('worker polling, API up');

    const pids = new Map([
      ['temporal', children.pid('temporal')],
      ['worker', children.pid('worker')],
      ['api', children.pid('api')],
      ['bench', process.pid],
    ]);
    const sampler = new MemorySampler(pids);
    sampler.start(500);

    connection = await Connection.connect({ address: server.address });
    const temporal = new Client({ connection, namespace: NAMESPACE });
    const api = jsonClient(apiUrl, key, Math.max(options.concurrency, options.bulkConcurrency));
    const runner: Runner = { breakdown: options.breakdown, db, temporal, api, children, pids };

    if (plans.warmup) {
      // JIT, connection set-up and the first SQLite pages, then let the worker catch up.
      sampler.enterPhase('warm-up');
      for (const plan of plans.warmup) {
        const result = await runSegment(runner, {
          label: `warm-up ${plan.kind}`,
          plan,
          from: 0,
          to: plan.targets.length,
        });
        say(
          `warm-up ${plan.kind}: ${result.started} starts, ${fixed(result.started / (result.load.wallMs / 1000))}/s (not reported)`,
        );
      }
      await waitUntilActive(db, plans.warmup, 120_000);
    }

    const results: SegmentResult[] = [];
    for (const segment of segments) {
      sampler.enterPhase(segment.plan.kind);
      const result = await runSegment(runner, segment);
      results.push(result);
      say(
        `${segment.label}: ${result.started} starts in ${fixed(result.load.wallMs / 1000)} s = ${fixed(result.started / (result.load.wallMs / 1000))}/s, ` +
          `p50 ${fixed(summarise(result.load.latenciesMs).p50)} ms, p99 ${fixed(summarise(result.load.latenciesMs).p99)} ms`,
      );
    }
    sampler.enterPhase('verify');
    api.close();

    const timedPlans = [plans.bare, plans.ours, plans.bulk].filter((plan): plan is PathPlan => plan !== undefined);
    const paths = timedPlans.map((plan) =>
      aggregate(
        plan,
        results.filter((result) => result.segment.plan === plan),
      ),
    );
    const visibility = await verifyVisibility(temporal, paths);
    const drain = await measureDrain(db, timedPlans, DRAIN_SAMPLE_MS);
    const backlog = await countActive(db, timedPlans);
    sampler.stop();
    const report = renderReport({
      command,
      options,
      paths,
      segments: results,
      visibility,
      backlog,
      drain,
      sampler,
      machine: await describeMachine(),
      files: { temporal: sqliteFileSize(server.dbFile), crm: sqliteFileSize(path.join(dir, 'crm.db')) },
      totalWorkflows: [...(plans.warmup ?? []), ...timedPlans].reduce((sum, plan) => sum + plan.targets.length, 0),
      runSeconds: (Date.now() - runStarted) / 1000,
    });
    process.stdout.write(`\n${report.markdown}\n`);
    if (options.record) {
      appendBenchResult(RESULTS_FILE, 'Enrolment bench results', 'bench:enrol', report.markdown);
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
    await emulator?.close().catch(() => {});
    await db?.close().catch(() => {});
    if (options.keep) say(`kept ${dir} (child logs, temporal.db, crm.db)`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

interface Plans {
  bare: PathPlan;
  ours: PathPlan;
  bulk?: PathPlan;
  warmup?: PathPlan[];
}

async function planPaths(db: Db, options: Options, leadIds: number[]): Promise<Plans> {
  const makePlan = async (kind: PathKind, leads: number[], name: string): Promise<PathPlan> => {
    const sequence = await createSequence(db, { name: `bench ${name} ${crypto.randomUUID()}`, steps: STEPS });
    let targets: PathPlan['targets'] = leads.map((leadId) => ({ leadId }));
    if (kind === 'bare') {
      const steps = snapshotOf(STEPS);
      const { created, conflicts } = await createAssignments(
        db,
        leads.map((leadId) => ({ leadId, sequenceId: sequence.id, sequenceVersion: sequence.version, steps })),
        dripWorkflowId,
      );
      if (conflicts.length > 0 || created.length !== leads.length)
        throw new Error(`could not pre-create the assignments of ${name}`);
      targets = created.map(({ id, leadId }) => ({ leadId, assignmentId: id }));
    }
    const batch = kind === 'ours' ? options.batch : kind === 'bulk' ? options.bulkBatch : 1;
    const concurrency = kind === 'bulk' ? options.bulkConcurrency : options.concurrency;
    return { kind, sequenceId: sequence.id, targets, batch, concurrency };
  };
  const plans: Plans = {
    bare: await makePlan('bare', leadIds, 'bare'),
    ours: await makePlan('ours', leadIds, 'ours'),
  };
  if (options.bulkLeads > 0) plans.bulk = await makePlan('bulk', leadIds.slice(0, options.bulkLeads), 'bulk');
  if (options.warmup > 0) {
    const leads = leadIds.slice(0, options.warmup);
    plans.warmup = [await makePlan('bare', leads, 'warm-up bare'), await makePlan('ours', leads, 'warm-up ours')];
  }
  return plans;
}

/** ABBA: bare, ours | ours, bare | bare, ours ...; rounds split on call boundaries; bulk last. */
function planSegments(options: Options, plans: Plans): Segment[] {
  const segments: Segment[] = [];
  const roundBounds = (plan: PathPlan, round: number): [number, number] => {
    const calls = Math.ceil(plan.targets.length / plan.batch);
    const edge = (r: number) => Math.min(plan.targets.length, Math.round((calls * r) / options.rounds) * plan.batch);
    return [edge(round), edge(round + 1)];
  };
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? [plans.bare, plans.ours] : [plans.ours, plans.bare];
    for (const plan of order) {
      const [from, to] = roundBounds(plan, round);
      if (to > from) segments.push({ label: `round ${round + 1} ${plan.kind}`, plan, from, to });
    }
  }
  if (plans.bulk) segments.push({ label: 'bulk', plan: plans.bulk, from: 0, to: plans.bulk.targets.length });
  return segments;
}

function snapshotOf(steps: StepInput[]): DripStepSnapshot[] {
  return steps.map(({ templateName, templateLanguage, delaySeconds, variables }) => ({
    templateName,
    templateLanguage,
    delaySeconds,
    variables,
  }));
}

interface Runner {
  breakdown: boolean;
  db: Db;
  temporal: Client;
  api: ReturnType<typeof jsonClient>;
  children: Children;
  pids: Map<string, number>;
}

async function runSegment(runner: Runner, segment: Segment): Promise<SegmentResult> {
  runner.children.assertHealthy();
  const { temporal, api } = runner;
  const { plan, from, to } = segment;
  const targets = plan.targets.slice(from, to);
  let started = 0;
  const measureApi = runner.breakdown && plan.kind !== 'bare';
  if (measureApi) await api.request('GET', '/__bench/stats');
  const cpuBefore = cpuSnapshot(runner.pids);
  const machineBefore = machineCpu();
  let load: LoadResult;
  if (plan.kind === 'bare') {
    const steps = snapshotOf(STEPS);
    load = await runClosedLoop(targets.length, plan.concurrency, async (index) => {
      const { leadId, assignmentId } = targets[index]!;
      const input: DripWorkflowInput = {
        assignmentId: assignmentId!,
        leadId,
        sequenceId: plan.sequenceId,
        sequenceVersion: 1,
        steps,
        sendTaskQueue: sendTaskQueue(TASK_QUEUE, 'interakt'),
      };
      await temporal.workflow.start<typeof dripWorkflow>('dripWorkflow', {
        taskQueue: TASK_QUEUE,
        workflowId: `bench-bare-${assignmentId}`,
        args: [input],
        typedSearchAttributes: [
          { key: LEAD_ID, value: leadId },
          { key: DRIP_SEQUENCE_ID, value: plan.sequenceId },
          { key: FLOW_KIND, value: 'drip' },
        ],
      });
      started += 1;
    });
  } else {
    const calls = Math.ceil(targets.length / plan.batch);
    load = await runClosedLoop(calls, plan.concurrency, async (index) => {
      const leadIds = targets.slice(index * plan.batch, (index + 1) * plan.batch).map((target) => target.leadId);
      const { status, body } = await api.request('POST', `/sequences/${plan.sequenceId}/assignments`, { leadIds });
      if (status !== 201 || body?.started !== leadIds.length || body?.skipped !== 0) {
        throw new Error(`HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}`);
      }
      const wrongId = (body.assignments as { assignmentId: number; workflowId: string }[]).find(
        ({ assignmentId, workflowId }) => workflowId !== `drip-${assignmentId}`,
      );
      if (wrongId) throw new Error(`assignment ${wrongId.assignmentId} started as ${wrongId.workflowId}`);
      started += body.started as number;
    });
  }
  const cpuSeconds = cpuDelta(cpuBefore, cpuSnapshot(runner.pids));
  const machineAfter = machineCpu();
  const stealSeconds = machineAfter.steal - machineBefore.steal;
  const machineBusySeconds = machineAfter.busy - machineBefore.busy;
  const breakdown = measureApi ? ((await api.request('GET', '/__bench/stats')).body as ApiBreakdown) : undefined;
  const activeAtEnd = (await countActive(runner.db, [plan]))[0]!;
  return {
    segment,
    started,
    load,
    cpuSeconds,
    stealSeconds,
    machineBusySeconds,
    activeAtEnd,
    ...(breakdown && { breakdown }),
  };
}

function aggregate(plan: PathPlan, segments: SegmentResult[]): PathResult {
  const cpuSeconds = new Map<string, number>();
  for (const segment of segments)
    for (const [name, seconds] of segment.cpuSeconds) cpuSeconds.set(name, (cpuSeconds.get(name) ?? 0) + seconds);
  return {
    kind: plan.kind,
    plan,
    segments,
    started: segments.reduce((sum, segment) => sum + segment.started, 0),
    wallMs: segments.reduce((sum, segment) => sum + segment.load.wallMs, 0),
    latency: summarise(segments.flatMap((segment) => segment.load.latenciesMs)),
    errors: segments.reduce((sum, segment) => sum + segment.load.errors.length, 0),
    cpuSeconds,
    stealSeconds: segments.reduce((sum, segment) => sum + segment.stealSeconds, 0),
    machineBusySeconds: segments.reduce((sum, segment) => sum + segment.machineBusySeconds, 0),
  };
}

/** Per plan, how many of its workflows have recorded 'started' through the worker. */
async function countActive(db: Db, plans: PathPlan[]): Promise<number[]> {
  const t = db.schema.leadDripAssignments;
  const counts: number[] = [];
  for (const plan of plans) {
    const [row] = await db.orm
      .select({ n: count() })
      .from(t)
      .where(and(eq(t.sequenceId, plan.sequenceId), eq(t.status, 'active')));
    counts.push(row?.n ?? 0);
  }
  return counts;
}

async function measureDrain(db: Db, plans: PathPlan[], ms: number): Promise<{ perSecond: number; seconds: number }> {
  const total = async () => (await countActive(db, plans)).reduce((sum, n) => sum + n, 0);
  const before = await total();
  const t0 = Date.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const seconds = (Date.now() - t0) / 1000;
  return { perSecond: ((await total()) - before) / seconds, seconds };
}

async function waitUntilActive(db: Db, plans: PathPlan[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const expected = plans.reduce((sum, plan) => sum + plan.targets.length, 0);
  for (;;) {
    const active = (await countActive(db, plans)).reduce((sum, n) => sum + n, 0);
    if (active >= expected) return;
    if (Date.now() > deadline)
      throw new Error(
        `only ${active} of ${expected} warm-up workflows ran their first task after ${timeoutMs / 1000} s`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface VisibilityCheck {
  kind: PathKind;
  expected: number;
  found: number;
}

/** Each path's workflows are visible by DripSequenceId (bounded wait for visibility to catch up). */
async function verifyVisibility(temporal: Client, paths: PathResult[]): Promise<VisibilityCheck[]> {
  const checks: VisibilityCheck[] = [];
  const deadline = Date.now() + 60_000;
  for (const { kind, plan, started } of paths) {
    let found: number;
    for (;;) {
      found = (await temporal.workflow.count(`DripSequenceId = ${plan.sequenceId} AND FlowKind = 'drip'`)).count;
      if (found >= started || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    checks.push({ kind, expected: started, found });
  }
  return checks;
}

interface ReportInput {
  command: string;
  options: Options;
  paths: PathResult[];
  segments: SegmentResult[];
  visibility: VisibilityCheck[];
  backlog: number[];
  drain: { perSecond: number; seconds: number };
  sampler: MemorySampler;
  machine: Machine;
  files: { temporal: number; crm: number };
  totalWorkflows: number;
  runSeconds: number;
}

const PROCESSES = ['temporal', 'worker', 'api', 'bench'] as const;

function renderReport(input: ReportInput): { markdown: string; ok: boolean } {
  const { options, paths, machine, sampler } = input;
  const rate = (started: number, wallMs: number) => started / (wallMs / 1000);
  const bare = paths.find((result) => result.kind === 'bare')!;
  const ours = paths.find((result) => result.kind === 'ours')!;
  const bareRate = rate(bare.started, bare.wallMs);
  const oursRate = rate(ours.started, ours.wallMs);
  const share = oursRate / bareRate;

  const table = markdownTable(
    ['path', 'starts', 'wall s', 'starts/s', 'p50 ms', 'p99 ms', '% of bare rate', 'errors'],
    paths.map((result) => [
      describePath(result.plan),
      String(result.started),
      fixed(result.wallMs / 1000),
      fixed(rate(result.started, result.wallMs)),
      fixed(result.latency.p50),
      fixed(result.latency.p99),
      `${fixed((rate(result.started, result.wallMs) / bareRate) * 100, 1)}%`,
      String(result.errors),
    ]),
  );

  const segmentTable = markdownTable(
    ['segment', 'starts', 'wall s', 'starts/s', 'p50 ms', 'p99 ms', 'first tasks run by its end'],
    input.segments.map((result) => {
      const latency = summarise(result.load.latenciesMs);
      return [
        result.segment.label,
        String(result.started),
        fixed(result.load.wallMs / 1000),
        fixed(rate(result.started, result.load.wallMs)),
        fixed(latency.p50),
        fixed(latency.p99),
        `${result.activeAtEnd} of ${result.segment.to}`,
      ];
    }),
  );

  const cpuTable = markdownTable(
    ['path', 'dev server', 'worker', 'API', 'bench', 'cores busy', 'other processes', 'stolen by host'],
    paths.map((result) => {
      const wall = result.wallMs / 1000;
      const seconds = (name: string) => result.cpuSeconds.get(name) ?? Number.NaN;
      const total = PROCESSES.reduce((sum, name) => sum + seconds(name), 0);
      return [
        result.kind,
        ...PROCESSES.map((name) => `${fixed(seconds(name))} s (${fixed((seconds(name) / wall) * 100, 0)}%)`),
        `${fixed(total / wall, 2)} of ${machine.cores}`,
        `${fixed(Math.max(0, result.machineBusySeconds - total))} s (${fixed((Math.max(0, result.machineBusySeconds - total) / wall) * 100, 0)}%)`,
        `${fixed(result.stealSeconds)} s (${fixed((result.stealSeconds / wall / machine.cores) * 100, 0)}%)`,
      ];
    }),
  );

  const memory = (name: string) => {
    const stats = sampler.stats(name);
    return stats ? `peak ${mib(stats.peakRss)}, final ${mib(stats.lastRss)}` : 'n/a';
  };
  const workerAtStart = sampler.phaseStats('setup', 'worker');
  const workerByPath = paths
    .map((result) => `${result.kind} ${mib(sampler.phaseStats(result.kind, 'worker')?.peakRss ?? Number.NaN)}`)
    .join(', ');

  const errors = paths.reduce((sum, result) => sum + result.errors, 0);
  const visibilityOk = input.visibility.every((check) => check.found === check.expected);
  const startedOk = paths.every((result) => result.started === result.plan.targets.length);
  const ok = errors === 0 && visibilityOk && startedOk;
  const expectedTotal = paths.reduce((sum, result) => sum + result.started, 0);
  const activeTotal = input.backlog.reduce((sum, n) => sum + n, 0);

  const t1 = [
    `${fixed(oursRate)} starts/s ${oursRate >= 50 ? '≥' : '<'} 50`,
    `p99 ${fixed(ours.latency.p99)} ms ${ours.latency.p99 <= 250 ? '≤' : '>'} 250`,
    `${ours.started} leads in ${fixed(ours.wallMs / 1000)} s of starting ${ours.wallMs <= 200_000 ? '≤' : '>'} 200 s`,
    `${errors} errors`,
  ];

  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const markdown = [
    `## Enrolment bench, ${date}`,
    '',
    `Command: \`${input.command}\` (whole run ${fixed(input.runSeconds, 0)} s)`,
    '',
    `Machine: ${machineLine(machine)}`,
    '',
    'Set-up: dev server persisted to a temp SQLite file with the `npm start` settings (WAL, synchronous=NORMAL, 1 task-queue partition, our search attributes), ' +
      'the real worker and API as child processes on one CRM SQLite file, each path on its own 2-step sequence whose first step is 1 h out (nothing is sent). ' +
      `ours = ${options.batch} lead(s) per call, ${options.concurrency} calls in flight; bulk = ${options.bulkBatch} leads per call, ${options.bulkConcurrency} in flight ` +
      `(the API starts up to 32 workflows of a call at once); bare = \`client.workflow.start\`, ${options.concurrency} in flight, assignment rows made beforehand.` +
      (options.breakdown
        ? ' **API = bench/support/instrumented-api.ts (`--breakdown`), not src/api/server.ts.**'
        : '') +
      (options.profileApi ? ' **API under `node --cpu-prof`.**' : ''),
    '',
    `Order: ${options.warmup > 0 ? `warm-up (${options.warmup} bare + ${options.warmup} via the API, not reported, worker caught up), then ` : ''}` +
      `${input.segments.map((result) => result.segment.label).join(', ')}; no waiting between segments.`,
    '',
    table,
    '',
    `Our path (batch ${options.batch}) at **${fixed(share * 100, 1)}%** of the bare rate (${fixed(oursRate)} vs ${fixed(bareRate)} starts/s); goal ≥ ${GOAL_SHARE_OF_BARE * 100}%: **${share >= GOAL_SHARE_OF_BARE ? 'met' : 'not met'}**.`,
    '',
    `T1 (performance-and-reliability.md §11) for our path: ${t1.join('; ')}.`,
    '',
    'Segments in the order they ran:',
    '',
    segmentTable,
    '',
    'CPU seconds used while each path was being timed (in brackets: share of one core; "other processes" is machine-wide busy time outside our processes: other programs and interrupt handling):',
    '',
    cpuTable,
    '',
    `Memory (RSS every 500 ms from /proc): worker ${memory('worker')} (${workerAtStart ? `${mib(workerAtStart.lastRss)} when it started polling; ` : ''}peak while timing ${workerByPath}); API ${memory('api')}; dev server ${memory('temporal')}; bench process ${memory('bench')}.`,
    '',
    `At the end: ${activeTotal} of ${expectedTotal} timed workflows had run their first task (with no more starts, the worker then ran ${fixed(input.drain.perSecond)} first tasks/s over ${fixed(input.drain.seconds, 0)} s); dev server SQLite ${mib(input.files.temporal)} and CRM SQLite ${mib(input.files.crm)} after ${input.totalWorkflows} workflows.`,
    '',
    ...renderBreakdown(input.segments),
    `Checks: ${errors} failed calls; visibility count by DripSequenceId: ${input.visibility.map((check) => `${check.kind} ${check.found}/${check.expected}`).join(', ')}; result **${ok ? 'OK' : 'FAILED'}**.`,
  ].join('\n');
  return { markdown, ok };
}

/** Per API segment: where a call's time went, and how busy the SQLite write gate was. */
function renderBreakdown(segments: SegmentResult[]): string[] {
  const measured = segments.filter((result) => result.breakdown);
  if (measured.length === 0) return [];
  const pair = (summary: LatencySummary) => `${fixed(summary.p50)} / ${fixed(summary.p99)}`;
  const table = markdownTable(
    [
      'segment',
      'handler p50/p99 ms',
      'gate wait + BEGIN',
      'transaction held',
      'workflow.start',
      'event-loop delay p50/p99 ms',
      'gate busy',
    ],
    measured.map((result) => {
      const { stages, sums, eventLoopDelayMs } = result.breakdown!;
      return [
        result.segment.label,
        pair(stages.handler),
        pair(stages.txWait),
        pair(stages.txHold),
        pair(stages.start),
        `${fixed(eventLoopDelayMs.p50)} / ${fixed(eventLoopDelayMs.p99)}`,
        `${fixed((sums.txHold / result.load.wallMs) * 100, 0)}%`,
      ];
    }),
  );
  return [
    'Breakdown inside the API (`--breakdown`: bench/support/instrumented-api.ts; "gate busy" = time the write transaction was held ÷ wall time):',
    '',
    table,
    '',
  ];
}

function describePath(plan: PathPlan): string {
  if (plan.kind === 'bare') return `bare \`workflow.start\` × ${plan.concurrency}`;
  return `${plan.kind}: API, ${plan.batch} lead${plan.batch === 1 ? '' : 's'}/call × ${plan.concurrency}`;
}

function say(message: string): void {
  process.stdout.write(`[bench] ${message}\n`);
}

void main();
