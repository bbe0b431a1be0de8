/**
 * `npm run bench:worker-memory -- [--leads 20000] --variant="<node flags and NAME=value pairs>" [--variant=...] [--record]`
 *
 * What `node` flags and environment do to a worker's memory under load, measured side by side in
 * one run: several workers poll the same queues on one dev server, worker A as it runs today (the
 * flags of src/worker/node-flags.ts) and one more per `--variant`, with that variant's flags
 * instead and its NAME=value pairs in its environment (e.g. `--variant="--max-semi-space-size=4"`,
 * `--variant=MALLOC_ARENA_MAX=2`). `--leads` drips (one step a day out) are enrolled through the
 * API, 500 per call, holding back while more than 2,000 first tasks wait, so every worker runs flat
 * out for the whole run.
 *
 * Reported per worker: RSS (sampled every second: median, 90th percentile, peak), CPU seconds, and
 * workflow tasks run (the SDK's own counter, from its Prometheus endpoint), so a setting that saves
 * memory by costing CPU shows as fewer tasks per CPU second. An SVG chart of the RSS series is
 * written next to the results file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateApiKey } from '../src/api/auth';
import { openDb } from '../src/db/client';
import { createApiKey, createSequence } from '../src/db/queries';
import { WORKER_NODE_FLAGS } from '../src/worker/node-flags';
import { startDripline } from '../temporal/cluster/dripline';
import { Supervisor } from '../temporal/cluster/supervisor';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { seedTemplates } from '../test/support/templates';
import { appendBenchResult, insertBenchLeads, sequenceCounts } from './support/bench-files';
import { lineChartSvg } from './support/chart';
import { describeMachine, machineLine } from './support/machine';
import { readCpuSeconds, readRss } from './support/sampler';
import { fixed, markdownTable, mib, percentile } from './support/stats';
import { Children, freePort, startDevServer } from './support/system';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'worker-memory.md');
const CHART_FILE = path.join(REPO_ROOT, 'bench', 'results', 'worker-memory.svg');
const CALL_BATCH = 500;
const MAX_BACKLOG = 2_000;
/** Issue 15's goal for one worker: 500 MB (476.8 MiB). */
const RSS_GOAL_BYTES = 500_000_000;

interface Setting {
  nodeArgs: string[];
  env: Record<string, string>;
}

interface Options {
  leads: number;
  variants: Setting[];
  record: boolean;
}

const started = Date.now();
const say = (line: string): void =>
  void process.stdout.write(`[bench ${fixed((Date.now() - started) / 1000, 0).padStart(4)} s] ${line}\n`);

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      leads: { type: 'string', default: '20000' },
      variant: { type: 'string', multiple: true, default: [] },
      record: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const leads = Number(values.leads);
  if (!Number.isInteger(leads) || leads < 1_000 || leads > 1_000_000)
    throw new Error(`--leads must be an integer 1000..1000000, got "${values.leads}"`);
  const variants = (values.variant ?? []).map((text): Setting => {
    const setting: Setting = { nodeArgs: [], env: {} };
    for (const token of text.split(/\s+/).filter(Boolean)) {
      const pair = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(token);
      if (pair) setting.env[pair[1]!] = pair[2]!;
      else if (token.startsWith('--')) setting.nodeArgs.push(token);
      else throw new Error(`--variant takes node flags and NAME=value pairs, got "${token}"`);
    }
    return setting;
  });
  if (variants.length < 1 || variants.length > 3) throw new Error('give one to three --variant settings');
  return { leads, variants, record: values.record ?? false };
}

interface WorkerRun {
  name: string;
  setting: string;
  rss: Array<[number, number]>;
  cpuSeconds: number;
  tasks: number;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const command = `npm run bench:worker-memory${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-bench-memory-'));
  const children = new Children(dir);
  const supervisor = new Supervisor(dir, say);
  let failed = false;
  try {
    const server = await startDevServer(children, dir);
    // Worker A runs today's flags; each variant's flags replace them rather than add to them.
    const settings: Setting[] = [{ nodeArgs: [...WORKER_NODE_FLAGS], env: {} }, ...options.variants];
    const metricsPorts: number[] = [];
    while (metricsPorts.length < settings.length) {
      const port = await freePort();
      if (!metricsPorts.includes(port)) metricsPorts.push(port);
    }
    const dripline = await startDripline(
      supervisor,
      { address: server.address },
      {
        workers: settings.length,
        apis: 1,
        taskQueue: 'dripline',
        sendsPerSecond: 4.5,
        databaseFile: path.join(dir, 'crm.db'),
        log: say,
        workerVariant: (i) => ({
          nodeArgs: settings[i]!.nodeArgs,
          env: { ...settings[i]!.env, WORKER_TEMPORAL_METRICS_PORT: String(metricsPorts[i]) },
        }),
      },
    );
    const db = await openDb(dripline.databaseUrl);
    await seedTemplates(db);
    const leadIds = await insertBenchLeads(db, options.leads);
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'bench', keyHash, keyPrefix });
    const sequence = await createSequence(db, {
      name: `memory ${crypto.randomUUID()}`,
      steps: [
        {
          templateName: 'drip_day_1',
          templateLanguage: 'en',
          delaySeconds: 86_400,
          variables: { body: [{ field: 'name' }] },
        },
      ],
    });
    const runs: WorkerRun[] = dripline.workerNames.map((name, i) => ({
      name: `${name} (${i === 0 ? 'A, today' : String.fromCharCode(65 + i)})`,
      setting: describeSetting(settings[i]!),
      rss: [],
      cpuSeconds: 0,
      tasks: 0,
    }));
    const pids = dripline.workerNames.map((name) => supervisor.pid(name));
    const cpuBefore = pids.map((pid) => readCpuSeconds(pid) ?? 0);
    const tasksBefore = await Promise.all(metricsPorts.map(workflowTasksRun));
    const sampleStarted = Date.now();
    const sampler = setInterval(() => {
      pids.forEach((pid, i) => {
        const rss = readRss(pid);
        if (rss !== null) runs[i]!.rss.push([(Date.now() - sampleStarted) / 1000, rss]);
      });
    }, 1_000);

    let next = 0;
    let lastSay = 0;
    for (;;) {
      const { total, active } = await sequenceCounts(db, sequence.id);
      if (Date.now() - lastSay > 15_000) {
        lastSay = Date.now();
        const rss = runs.map((run) => `${run.name.split(' ')[0]} ${mib(run.rss.at(-1)?.[1] ?? 0)}`).join(', ');
        say(`${active}/${options.leads} first tasks run, backlog ${total - active}; RSS ${rss}`);
      }
      if (active >= options.leads) break;
      if (next < leadIds.length && total - active <= MAX_BACKLOG) {
        const batch = leadIds.slice(next, next + CALL_BATCH);
        next += batch.length;
        const response = await fetch(`${dripline.balancer.url}/sequences/${sequence.id}/assignments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ leadIds: batch }),
        });
        if (response.status !== 201)
          throw new Error(`enrolment call: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
      } else {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    clearInterval(sampler);
    const seconds = (Date.now() - sampleStarted) / 1000;
    const tasksAfter = await Promise.all(metricsPorts.map(workflowTasksRun));
    pids.forEach((pid, i) => {
      runs[i]!.cpuSeconds = (readCpuSeconds(pid) ?? 0) - cpuBefore[i]!;
      runs[i]!.tasks = tasksAfter[i]! - tasksBefore[i]!;
    });
    await db.close();

    const machine = machineLine(await describeMachine());
    const markdown = renderReport({ command, machine, options, runs, seconds });
    process.stdout.write(`\n${markdown}\n`);
    if (options.record) {
      appendBenchResult(RESULTS_FILE, 'Worker memory: settings side by side', 'bench:worker-memory', markdown);
      fs.writeFileSync(
        CHART_FILE,
        lineChartSvg({
          title: `Worker RSS while ${options.leads.toLocaleString('en')} drips start (${runs.length} workers, one queue)`,
          xLabel: 'seconds',
          yLabel: 'RSS (MiB)',
          series: runs.map((run) => ({
            label: `${run.name}: ${run.setting}`,
            points: run.rss.map(([x, y]) => [x, y / 2 ** 20] as const),
          })),
          threshold: { y: RSS_GOAL_BYTES / 2 ** 20, label: 'goal: 500 MB' },
        }),
      );
      say(`recorded in ${path.relative(process.cwd(), RESULTS_FILE)} and ${path.relative(process.cwd(), CHART_FILE)}`);
    }
  } catch (error) {
    failed = true;
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await supervisor.stopAll();
    await children.stopAll();
    if (!failed) fs.rmSync(dir, { recursive: true, force: true });
    else say(`kept ${dir}`);
  }
  process.exit(failed ? 1 : 0);
}

function describeSetting({ nodeArgs, env }: Setting): string {
  const parts = [...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...nodeArgs];
  return parts.length ? parts.join(' ') : 'no flags';
}

/** The SDK core's count of workflow tasks this worker completed (its Prometheus histogram's `_count`). */
async function workflowTasksRun(port: number | undefined): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('temporal_workflow_task_execution_latency_count')) total += Number(line.split(' ').at(-1));
  }
  return total;
}

function renderReport(input: {
  command: string;
  machine: string;
  options: Options;
  runs: WorkerRun[];
  seconds: number;
}): string {
  const rows = input.runs.map((run) => {
    const sorted = run.rss.map(([, rss]) => rss).sort((a, b) => a - b);
    return [
      run.name,
      `\`${run.setting}\``,
      mib(percentile(sorted, 50)),
      mib(percentile(sorted, 90)),
      mib(sorted.at(-1) ?? 0),
      String(run.tasks),
      fixed(run.cpuSeconds),
      fixed(run.tasks / Math.max(run.cpuSeconds, 0.001)),
    ];
  });
  const totalTasks = input.runs.reduce((sum, run) => sum + run.tasks, 0);
  return [
    `## Worker memory, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `Command: \`${input.command}\` (${fixed(input.seconds, 0)} s of enrolment, ${fixed(totalTasks / input.seconds)} workflow tasks/s for all workers together)`,
    '',
    `Machine: ${input.machine}`,
    '',
    `Set-up: the CLI dev server as \`npm start\` runs it; ${input.runs.length} workers polling the same queues, one API; ${input.options.leads} drips (one step a day out) enrolled 500 per call while at most 2,000 first tasks wait. RSS sampled every second from the first call until every drip was asleep.`,
    '',
    markdownTable(
      ['worker', 'setting', 'RSS median', 'RSS p90', 'RSS peak', 'workflow tasks', 'CPU s', 'tasks per CPU s'],
      rows,
    ),
  ].join('\n');
}

void main();
