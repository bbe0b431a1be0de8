import fs from 'node:fs';
import path from 'node:path';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Worker,
  type NativeConnection,
  type WorkerOptions,
} from '@temporalio/worker';
import type { Activities } from './activities';
import { temporalLogger, type Logger } from '../logging/logger';
import { senderSendQueue, sendTaskQueue, type ProviderName } from '../shared';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  provider: ProviderName;
  /** The limit per sender number; the server enforces it across every worker of each sender's queue. */
  sendsPerSecond: number;
  /**
   * The deployment's other sender numbers, each with activities that send from it: each gets its
   * own send queue (senderSendQueue), so each number is limited on its own, as the provider limits it.
   */
  senders?: Array<{ sender: string; activities: Activities }>;
  /** Pre-bundled workflow code (tests); otherwise the build's bundle, or bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Where bundling reports its warnings; by default stderr. */
  log?: Logger;
}

/** Written by `npm run build` (scripts/build.mjs) at the root of dist/, one level above this file. */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/**
 * The bundle `npm run build` wrote beside the compiled code, when there is one: `node dist/worker/main.js`
 * then starts without webpack, on the workflow code of the same build. Run from
 * src/ (tsx) there is none, and the worker bundles at start.
 */
export function prebuiltWorkflowBundle(buildRoot = path.resolve(__dirname, '..')): { codePath: string } | undefined {
  const codePath = path.join(buildRoot, WORKFLOW_BUNDLE_FILE);
  return fs.existsSync(codePath) ? { codePath } : undefined;
}

/**
 * Workflows a worker keeps in memory between their tasks (its sticky cache). A drip sleeps for days
 * between steps; replaying its few dozen events when it wakes costs far less than holding it
 * meanwhile (about 0.4 MB each, measured). The SDK's default (about 600 per GB of heap: 2,310 on a
 * 24 GiB machine) let one worker reach 1,083 MiB with 10,000 drips asleep; with this cap its
 * memory stops growing with the number of sleeping workflows (bench/results/cluster.md).
 */
const MAX_CACHED_WORKFLOWS = 100;
/** Workflow tasks run at once; each holds a cache slot, so this stays well below the cap (the SDK's default). */
const MAX_CONCURRENT_WORKFLOW_TASKS = 40;
/**
 * Polls held open at once. Each task a poll gets costs the server a persistence write before it is
 * handed over, so one poller takes tens of tasks a second at most: with the SDK's defaults (10
 * workflow-task polls, only 2 of them on the shared queue, 10 activity polls) a worker on the
 * cluster ran about 15 first tasks a second while thousands waited. Half the workflow-task polls go
 * to the shared queue, where new workflows (and evicted ones) wait; the sticky half serves the cache.
 */
const MAX_WORKFLOW_TASK_POLLS = 20;
const NON_STICKY_TO_STICKY_POLL_RATIO = 0.5;
const MAX_ACTIVITY_TASK_POLLS = 20;

/**
 * The rate the Temporal server is asked to pace a send queue at, for a provider limit of
 * `sendsPerSecond`: 1 % under it. The server orders sends by priority and keeps them waiting in
 * the queue rather than in workers, but cannot hold the limit exactly: its limiter (matching's
 * GCRA, with a fixed burst of one second) lets a second's worth through at once after any pause,
 * and workers take varying time from its dispatch to their call. The send-window ledger does that
 * (src/messages/send-limit.ts), and admits about 0.3 % less than the limit; pacing 1 % under it
 * keeps the ledger trimming bursts instead of becoming the queue.
 */
export function serverSendRate(sendsPerSecond: number): number {
  return sendsPerSecond * 0.99;
}

/**
 * Two workers share one connection: the main queue runs workflows and bookkeeping activities;
 * the send queue runs only provider calls, paced by the Temporal server
 * (`maxTaskQueueActivitiesPerSecond`) and held to the provider's limit by the send-window ledger
 * its activities take a slot of (`SendDeps.sendLimit`), so adding workers never exceeds it.
 */
export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const workflowBundle =
    setup.workflowBundle ??
    prebuiltWorkflowBundle() ??
    // Bundled here rather than by Worker.create so webpack's report (info lines) stays out of the log.
    (await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      logger: setup.log ? temporalLogger(setup.log.child({}, { level: 'warn' })) : new DefaultLogger('WARN'),
    }));
  const main = await Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: setup.activities,
    workflowBundle,
    // One V8 context for every workflow (the SDK's default, stated because the cache cap relies
    // on it: with a context per workflow each cached one costs several times more).
    reuseV8Context: true,
    maxCachedWorkflows: MAX_CACHED_WORKFLOWS,
    maxConcurrentWorkflowTaskExecutions: MAX_CONCURRENT_WORKFLOW_TASKS,
    maxConcurrentWorkflowTaskPolls: MAX_WORKFLOW_TASK_POLLS,
    nonStickyToStickyPollRatio: NON_STICKY_TO_STICKY_POLL_RATIO,
    maxConcurrentActivityTaskPolls: MAX_ACTIVITY_TASK_POLLS,
  });
  const sendQueue = sendTaskQueue(setup.taskQueue, setup.provider);
  const sends = await Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: sendQueue,
    activities: setup.activities,
    maxTaskQueueActivitiesPerSecond: serverSendRate(setup.sendsPerSecond),
  });
  const senderWorkers = await Promise.all(
    (setup.senders ?? []).map(({ sender, activities }) =>
      Worker.create({
        connection: setup.connection,
        namespace: setup.namespace,
        taskQueue: senderSendQueue(sendQueue, sender),
        activities,
        maxTaskQueueActivitiesPerSecond: serverSendRate(setup.sendsPerSecond),
      }),
    ),
  );
  return [main, sends, ...senderWorkers];
}

/** Runs the workers until one stops (or fails), then shuts the others down. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  const runs = workers.map((worker) => worker.run());
  try {
    await Promise.race(runs);
  } finally {
    for (const worker of workers) {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    }
    // The connection may only close once every worker has let go of it.
    await Promise.allSettled(runs);
  }
}
