import {
  bundleWorkflowCode,
  DefaultLogger,
  Worker,
  type NativeConnection,
  type WorkerOptions,
} from '@temporalio/worker';
import type { Activities } from './activities';
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
  /** Pre-bundled workflow code (tests, production images); otherwise bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/**
 * Two workers share one connection: the main queue runs workflows and bookkeeping activities;
 * the send queue runs only provider calls, rate-limited by the Temporal server
 * (`maxTaskQueueActivitiesPerSecond`), so adding workers never exceeds the provider's limit.
 */
export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const workflowBundle =
    setup.workflowBundle ??
    // Bundled here rather than by Worker.create so webpack's report stays out of the log.
    (await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') }));
  const main = await Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: setup.activities,
    workflowBundle,
  });
  const sendQueue = sendTaskQueue(setup.taskQueue, setup.provider);
  const sends = await Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: sendQueue,
    activities: setup.activities,
    maxTaskQueueActivitiesPerSecond: setup.sendsPerSecond,
  });
  const senderWorkers = await Promise.all(
    (setup.senders ?? []).map(({ sender, activities }) =>
      Worker.create({
        connection: setup.connection,
        namespace: setup.namespace,
        taskQueue: senderSendQueue(sendQueue, sender),
        activities,
        maxTaskQueueActivitiesPerSecond: setup.sendsPerSecond,
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
