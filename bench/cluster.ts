/**
 * `npm run bench:cluster -- [--leads 10000] [--asleep 100000] [--workers 1] [--apis 1] [--worker-flags="<node flags>"]
 *                          [--profile-worker <dir>] [--record] [--keep]`
 *
 * Two questions about Dripline on the production shape, answered in one run on one machine:
 *
 * 1. Throughput at the cluster (issue 15, item 4). Enrolment starts per second through the API,
 *    and the worker's first workflow tasks per second (a drip's first task records `started` and
 *    moves its assignment to `active`), on the CLI dev server and then on the cluster
 *    (temporal/cluster/), with the same Dripline processes and the same worker options. The worker
 *    keeps up when its backlog of first tasks (started, not yet active) does not grow while
 *    starts arrive.
 * 2. Bounded workers (item 3). On the cluster, enrolment goes on until `--asleep` drips are asleep
 *    on their first delay (a day), sampling each worker's RSS; then `--leads` more are enrolled
 *    and timed like the first ones, to show new enrolments still start at full speed.
 *
 * Order: dev server (`--leads`), then the cluster: `--leads` (the cluster empty), the rest up to
 * `--asleep`, `--leads` more (with `--asleep` asleep). Every enrolment goes through the API's bulk
 * path (100 leads per call, 4 calls in flight, the API starting up to 32 workflows of a call at
 * once) behind the harness's balancer. Each sequence has one step a day out, so nothing is sent however long the fill takes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateApiKey } from '../src/api/auth';
import { openDb, type Db } from '../src/db/client';
import { createApiKey, createSequence } from '../src/db/queries';
import { WORKER_NODE_FLAGS } from '../src/worker/node-flags';
import { startCluster } from '../temporal/cluster/cluster';
import { startDripline, type Dripline } from '../temporal/cluster/dripline';
import { Supervisor } from '../temporal/cluster/supervisor';
import { ensureClusterTools } from '../temporal/cluster/tools';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { seedTemplates } from '../test/support/templates';
import { appendBenchResult, insertBenchLeads, sequenceCounts } from './support/bench-files';
import { describeMachine, machineLine } from './support/machine';
import { cpuDelta, cpuSnapshot, machineCpu, MemorySampler } from './support/sampler';
import { fixed, markdownTable, mib } from './support/stats';
import { Children, startDevServer } from './support/system';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'cluster.md');
const TASK_QUEUE = 'dripline';
const CALL_BATCH = 100;
const CALLS_IN_FLIGHT = 4;
/** Worker RSS goal with 100,000 drips asleep (issue 15): 500 MB, i.e. 476.8 MiB. */
const RSS_GOAL_BYTES = 500_000_000;
/** The fill enrols no more while this many first tasks wait. */
const FILL_BACKLOG = 2_000;
/** How long to wait, after the last start, for the backlog of first tasks to drain. */
const DRAIN_LIMIT_MS = 60 * 60_000;

interface Options {
  leads: number;
  asleep: number;
  workers: number;
  apis: number;
  /** Directory for V8 CPU profiles of the workers (`node --cpu-prof`), written when they stop. */
  profileWorker: string | undefined;
  /** The workers' `node` flags instead of WORKER_NODE_FLAGS (`--worker-flags=` for none), to compare. */
  workerFlags: string[] | undefined;
  /** Time budget for filling up to `asleep`: the report says how many were reached. */
  fillMinutes: number;
  record: boolean;
  keep: boolean;
}

const runStarted = Date.now();
const say = (line: string): void =>
  void process.stdout.write(`[bench ${fixed((Date.now() - runStarted) / 1000, 0).padStart(4)} s] ${line}\n`);

/** One timed enrolment: how fast it started workflows, and how fast the worker ran their first tasks. */
interface Segment {
  label: string;
  server: 'dev server' | 'cluster';
  leads: number;
  enrolS: number;
  /** First tasks run (assignments active) when the last start returned. */
  activeAtEnd: number;
  /** From the first call until every assignment was active. */
  allActiveS: number;
  /** Largest backlog (started − active) seen, sampled every second. */
  maxBacklog: number;
  cpu: { server: number; workers: number; apis: number; machine: number; seconds: number };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const command = `npm run bench:cluster${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const tools = ensureClusterTools(say);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-bench-cluster-'));
  const supervisor = new Supervisor(dir, say);
  let failed = false;
  supervisor.addCleanup(() => {
    if (options.keep || failed) say(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  });
  const devChildren = new Children(path.join(dir));
  const segments: Segment[] = [];
  const dbs: Db[] = [];
  try {
    say(`state and logs in ${dir}`);

    // ---- The dev server, as `npm start` runs it ----------------------------------------------
    const devServer = await startDevServer(devChildren, dir);
    say(`dev server at ${devServer.address}`);
    const dev = await prepare(supervisor, devServer.address, path.join(dir, 'crm-dev.db'), options, options.leads);
    dbs.push(dev.db);
    const devPids = () => ({ server: [devChildren.pid('temporal')], ...driplinePids(supervisor, dev.dripline) });
    segments.push(await enrolSegment(dev, 'dev server', 'dev server, empty', dev.leadIds, devPids));
    await dev.dripline.stop();
    await devChildren.stopAll();

    // ---- The cluster ---------------------------------------------------------------------------
    const cluster = await startCluster(supervisor, tools, { ui: false, log: say });
    const total = options.asleep + options.leads;
    const prod = await prepare(supervisor, cluster.address, path.join(dir, 'crm-cluster.db'), options, total);
    dbs.push(prod.db);
    const clusterPids = () => ({ server: [supervisor.pid('temporal')], ...driplinePids(supervisor, prod.dripline) });
    const sampler = new MemorySampler(new Map(prod.dripline.workerNames.map((name) => [name, supervisor.pid(name)])));
    sampler.start(1_000);
    sampler.enterPhase('first');
    segments.push(
      await enrolSegment(prod, 'cluster', 'cluster, empty', prod.leadIds.slice(0, options.leads), clusterPids),
    );
    sampler.enterPhase('fill');
    const fill = prod.leadIds.slice(options.leads, options.asleep);
    const asleep = options.leads + (await fillUp(prod, fill, options.fillMinutes, sampler, prod.dripline.workerNames));
    sampler.enterPhase('last');
    segments.push(
      await enrolSegment(prod, 'cluster', `cluster, ${asleep} asleep`, prod.leadIds.slice(options.asleep), clusterPids),
    );
    sampler.stop();

    const machine = await describeMachine();
    const report = renderReport({
      command,
      machine: machineLine(machine),
      options,
      segments,
      sampler,
      workers: prod.dripline.workerNames,
      version: cluster.version,
      shards: cluster.shards,
      asleep,
    });
    process.stdout.write(`\n${report.markdown}\n`);
    if (options.record) {
      appendBenchResult(
        RESULTS_FILE,
        'Dripline on the Temporal cluster: throughput and worker memory',
        'bench:cluster',
        report.markdown,
      );
      say(`recorded in ${path.relative(process.cwd(), RESULTS_FILE)}`);
    }
    failed = !report.ok;
  } catch (error) {
    failed = true;
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    for (const db of dbs) await db.close().catch(() => {});
    await devChildren.stopAll();
    await supervisor.stopAll();
  }
  process.exit(failed ? 1 : 0);
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      leads: { type: 'string', default: '10000' },
      asleep: { type: 'string', default: '100000' },
      workers: { type: 'string', default: '1' },
      apis: { type: 'string', default: '1' },
      'profile-worker': { type: 'string' },
      'worker-flags': { type: 'string' },
      'fill-minutes': { type: 'string', default: '600' },
      record: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const integer = (name: string, raw: string | undefined, min: number, max: number): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new Error(`--${name} must be an integer ${min}..${max}, got "${raw}"`);
    return value;
  };
  const options = {
    leads: integer('leads', values.leads, 100, 100_000),
    asleep: integer('asleep', values.asleep, 100, 1_000_000),
    workers: integer('workers', values.workers, 1, 8),
    apis: integer('apis', values.apis, 1, 4),
    profileWorker: values['profile-worker'] && path.resolve(values['profile-worker']),
    workerFlags: values['worker-flags']?.split(/\s+/).filter(Boolean),
    fillMinutes: integer('fill-minutes', values['fill-minutes'], 1, 10_000),
    record: values.record ?? false,
    keep: values.keep ?? false,
  };
  if (options.asleep < options.leads) throw new Error('--asleep must be at least --leads');
  return options;
}

interface Prepared {
  db: Db;
  dripline: Dripline;
  apiKey: string;
  sequenceId: number;
  leadIds: number[];
}

/** A CRM database with the leads, an API key and a one-step sequence, and Dripline's processes on it. */
async function prepare(
  supervisor: Supervisor,
  address: string,
  databaseFile: string,
  options: Options,
  leads: number,
): Promise<Prepared> {
  const dripline = await startDripline(
    supervisor,
    { address },
    {
      workers: options.workers,
      apis: options.apis,
      taskQueue: TASK_QUEUE,
      sendsPerSecond: 4.5,
      databaseFile,
      log: say,
      ...(options.profileWorker && { workerNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${options.profileWorker}`] }),
      ...(options.workerFlags && { workerVariant: () => ({ nodeArgs: options.workerFlags }) }),
    },
  );
  const db = await openDb(dripline.databaseUrl);
  await seedTemplates(db);
  const leadIds = await insertBenchLeads(db, leads);
  const { key, keyHash, keyPrefix } = generateApiKey();
  await createApiKey(db, { name: 'bench', keyHash, keyPrefix });
  const sequence = await createSequence(db, {
    name: `bench ${crypto.randomUUID()}`,
    steps: [
      {
        templateName: 'drip_day_1',
        templateLanguage: 'en',
        delaySeconds: 86_400,
        variables: { body: [{ field: 'name' }] },
      },
    ],
  });
  say(`${leads} leads on ${path.basename(databaseFile)}; sequence ${sequence.id} (one step, a day out)`);
  return { db, dripline, apiKey: key, sequenceId: sequence.id, leadIds };
}

function driplinePids(supervisor: Supervisor, dripline: Dripline): { workers: number[]; apis: number[] } {
  return {
    workers: dripline.workerNames.map((name) => supervisor.pid(name)),
    apis: dripline.apiNames.map((name) => supervisor.pid(name)),
  };
}

/**
 * Enrols `leads` through the API and watches the first tasks: every second, how many of the
 * sequence's assignments exist and how many are active. Returns once every one is active.
 */
async function enrolSegment(
  prepared: Prepared,
  server: Segment['server'],
  label: string,
  leads: number[],
  pids: () => { server: number[]; workers: number[]; apis: number[] },
  progressEvery = 5,
): Promise<Segment> {
  const { db, dripline, apiKey, sequenceId } = prepared;
  const before = await sequenceCounts(db, sequenceId);
  const groups = pids();
  const flat = new Map<string, number>();
  for (const [group, list] of Object.entries(groups)) list.forEach((pid, i) => flat.set(`${group}:${i}`, pid));
  const cpuBefore = cpuSnapshot(flat);
  const machineBefore = machineCpu();
  const started = Date.now();
  let maxBacklog = 0;
  let tick = 0;
  let enrolDone = false;
  const watch = setInterval(() => {
    void sequenceCounts(db, sequenceId).then(({ total, active }) => {
      maxBacklog = Math.max(maxBacklog, total - active);
      if (++tick % progressEvery === 0) {
        say(
          `${label}: ${total - before.total}/${leads.length} started, ${active - before.active} first tasks run, backlog ${total - active}${enrolDone ? ' (all started)' : ''}`,
        );
      }
    });
  }, 1_000);
  let next = 0;
  const calls: number[][] = [];
  for (let i = 0; i < leads.length; i += CALL_BATCH) calls.push(leads.slice(i, i + CALL_BATCH));
  await Promise.all(
    Array.from({ length: CALLS_IN_FLIGHT }, async () => {
      while (next < calls.length) {
        const leadIds = calls[next++]!;
        const response = await fetch(`${dripline.balancer.url}/sequences/${sequenceId}/assignments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: JSON.stringify({ leadIds }),
        });
        const body = (await response.json()) as { started?: number };
        if (response.status !== 201 || body.started !== leadIds.length)
          throw new Error(`enrolment call: HTTP ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
      }
    }),
  );
  const enrolS = (Date.now() - started) / 1000;
  enrolDone = true;
  const atEnd = await sequenceCounts(db, sequenceId);
  const deadline = Date.now() + DRAIN_LIMIT_MS;
  for (;;) {
    const { active } = await sequenceCounts(db, sequenceId);
    if (active - before.active >= leads.length) break;
    if (Date.now() > deadline)
      throw new Error(`${label}: first tasks not all run ${DRAIN_LIMIT_MS / 60_000} min after the last start`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const allActiveS = (Date.now() - started) / 1000;
  clearInterval(watch);
  const cpu = cpuDelta(cpuBefore, cpuSnapshot(flat));
  const machineAfter = machineCpu();
  const sum = (group: string) =>
    [...cpu].filter(([key]) => key.startsWith(`${group}:`)).reduce((total, [, seconds]) => total + seconds, 0);
  const segment: Segment = {
    label,
    server,
    leads: leads.length,
    enrolS,
    activeAtEnd: atEnd.active - before.active,
    allActiveS,
    maxBacklog,
    cpu: {
      server: sum('server'),
      workers: sum('workers'),
      apis: sum('apis'),
      machine: machineAfter.busy - machineBefore.busy,
      seconds: allActiveS,
    },
  };
  say(
    `${label}: ${leads.length} starts in ${fixed(enrolS)} s = ${fixed(leads.length / enrolS)}/s; first tasks ${fixed(leads.length / allActiveS)}/s ` +
      `(all run ${fixed(allActiveS - enrolS)} s after the last start; backlog at most ${maxBacklog})`,
  );
  return segment;
}

/**
 * Enrols the fill in calls of 500, holding back while the worker's backlog of first tasks is over
 * FILL_BACKLOG (a drip is asleep only once its first task has run; enrolling faster than that just
 * queues work), until every lead is asleep or the time budget is spent. Returns how many fell asleep.
 */
async function fillUp(
  prepared: Prepared,
  leads: number[],
  minutes: number,
  sampler: MemorySampler,
  workers: string[],
): Promise<number> {
  const { db, dripline, apiKey, sequenceId } = prepared;
  const deadline = Date.now() + minutes * 60_000;
  const before = await sequenceCounts(db, sequenceId);
  let next = 0;
  let lastSay = 0;
  while (next < leads.length && Date.now() < deadline) {
    const { total, active } = await sequenceCounts(db, sequenceId);
    if (Date.now() - lastSay > 30_000) {
      lastSay = Date.now();
      const rss = workers.map((name) => `${name} ${mib(sampler.stats(name)?.lastRss ?? 0)}`).join(', ');
      say(`filling: ${active - before.active}/${leads.length} asleep, backlog ${total - active}; RSS ${rss}`);
    }
    if (total - active > FILL_BACKLOG) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      continue;
    }
    const leadIds = leads.slice(next, next + 500);
    next += leadIds.length;
    const response = await fetch(`${dripline.balancer.url}/sequences/${sequenceId}/assignments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ leadIds }),
    });
    if (response.status !== 201)
      throw new Error(`fill call: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
  }
  for (;;) {
    const { total, active } = await sequenceCounts(db, sequenceId);
    if (active >= total) return active - before.active;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

function renderReport(input: {
  command: string;
  machine: string;
  options: Options;
  segments: Segment[];
  sampler: MemorySampler;
  workers: string[];
  version: string;
  shards: number;
  /** Drips asleep when the last segment ran. */
  asleep: number;
}): { markdown: string; ok: boolean } {
  const { options, segments, sampler } = input;
  const rows = segments.map((segment) => {
    const startsPerS = segment.leads / segment.enrolS;
    const firstPerS = segment.leads / segment.allActiveS;
    const core = (seconds: number) => fixed(seconds / segment.cpu.seconds, 2);
    return [
      segment.label,
      String(segment.leads),
      fixed(startsPerS),
      fixed(firstPerS),
      `${segment.activeAtEnd} (${fixed((100 * segment.activeAtEnd) / segment.leads, 0)}%)`,
      String(segment.maxBacklog),
      fixed(segment.allActiveS - segment.enrolS),
      `${core(segment.cpu.machine)} (server ${core(segment.cpu.server)}, workers ${core(segment.cpu.workers)}, APIs ${core(segment.cpu.apis)})`,
    ];
  });
  const memoryRows = input.workers.map((name) => {
    const phase = (p: string) => sampler.phaseStats(p, name);
    return [
      name,
      mib(phase('first')?.peakRss ?? 0),
      mib(phase('fill')?.peakRss ?? 0),
      mib(phase('last')?.peakRss ?? 0),
      mib(sampler.stats(name)?.lastRss ?? 0),
    ];
  });
  const peak = Math.max(...input.workers.map((name) => sampler.stats(name)?.peakRss ?? 0));
  const first = segments.find((segment) => segment.label === 'cluster, empty')!;
  const last = segments.at(-1)!;
  const dev = segments[0]!;
  const keepsUp = (segment: Segment) => segment.leads / segment.allActiveS >= 0.9 * (segment.leads / segment.enrolS);
  const lastShare = last.leads / last.enrolS / (first.leads / first.enrolS);
  const reached = input.asleep >= options.asleep;
  const ok = reached && peak < RSS_GOAL_BYTES && lastShare >= 0.9 && keepsUp(first);
  const lines = [
    `## Cluster bench, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `Command: \`${input.command}\` (whole run ${fixed((Date.now() - runStarted) / 1000, 0)} s)`,
    '',
    `Machine: ${input.machine}`,
    '',
    `Set-up: the same Dripline processes (${options.workers} worker, ${options.apis} API behind the harness's balancer, one CRM SQLite file each run, worker options of src/worker/workers.ts, worker node flags \`${(options.workerFlags ?? WORKER_NODE_FLAGS).join(' ') || 'none'}\`) on ` +
      `(a) the CLI dev server as \`npm start\` runs it (SQLite, WAL, 1 partition) and (b) the cluster of temporal/cluster/: Temporal ${input.version} on PostgreSQL, ${input.shards} history shards, ` +
      `4 partitions on the main queue. Enrolment through the API, ${CALL_BATCH} leads per call, ${CALLS_IN_FLIGHT} calls in flight; one-step sequence a day out, so every drip sleeps after its first task.`,
    '',
    markdownTable(
      [
        'segment',
        'leads',
        'starts/s',
        'first tasks/s',
        'first tasks run by the last start',
        'max backlog',
        's to drain after',
        'cores busy (whole machine)',
      ],
      rows,
    ),
    '',
    '*first tasks/s* = leads ÷ time from the first call until every assignment was active; the worker keeps up when it is close to *starts/s* (backlog drained as it built).',
    '',
    `Worker RSS (VmRSS every second), peak per phase: ${options.leads} enrolled | filling to ${input.asleep} asleep${reached ? '' : ` (of ${options.asleep} wanted: the --fill-minutes budget ran out)`} | ${options.leads} more with ${input.asleep} asleep | final:`,
    '',
    markdownTable(['worker', 'first', 'fill', 'last', 'final'], memoryRows),
    '',
    `Goals: worker RSS < 500 MB with ${options.asleep} drips asleep: peak ${mib(peak)} with ${input.asleep} asleep — **${!reached ? `not shown (${input.asleep} reached)` : peak < RSS_GOAL_BYTES ? 'met' : 'not met'}**. ` +
      `New enrolments at full speed with ${input.asleep} asleep: ${fixed(last.leads / last.enrolS)} vs ${fixed(first.leads / first.enrolS)} starts/s on the empty cluster (${fixed(100 * lastShare, 0)}%) — **${lastShare >= 0.9 ? 'met' : 'not met'}** (≥ 90%). ` +
      `Worker keeps up with enrolment on the cluster: ${fixed(first.leads / first.allActiveS)} first tasks/s vs ${fixed(first.leads / first.enrolS)} starts/s — **${keepsUp(first) ? 'met' : 'not met'}** (≥ 90%); ` +
      `on the dev server ${fixed(dev.leads / dev.allActiveS)} vs ${fixed(dev.leads / dev.enrolS)}.`,
  ];
  return { markdown: lines.join('\n'), ok };
}

void main();
