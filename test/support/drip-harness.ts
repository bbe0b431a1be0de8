import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/worker/activities';
import type { CtaKeyring } from '../../src/cta/tokens';
import { ctaEmulatorTemplates, DEFAULT_EMULATOR_TEMPLATES } from '../../src/emulators/interakt-templates';
import type { Db } from '../../src/db/client';
import { createAssignments, createLead, createSequence, getAssignment, type StepInput } from '../../src/db/queries';
import { createInteraktProvider } from '../../src/providers/interakt';
import { createInteraktTrackClient } from '../../src/providers/interakt-track';
import type { SendCounter } from '../../src/metrics';
import { dripWorkflowId, type DripWorkflowInput } from '../../src/drips/contract';
import { sendTaskQueue } from '../../src/shared';
import type { SequenceSendRules } from '../../src/delivery/contract';
import type { dripWorkflow } from '../../src/drips/workflow';
import { createWorkers, runWorkers } from '../../src/worker/workers';
import { createSendLimit, type SendLimit } from '../../src/messages/send-limit';
import { startInteraktEmulator } from './emulator';
import { bundleWorkflows, uniqueTaskQueue } from './temporal';
import { seedTemplates } from './templates';
import { silentLogger } from './logs';

export const EMULATOR_KEY = 'test-interakt-key';

export interface DripHarnessOptions {
  db: Db;
  connection: NativeConnection;
  namespace: string;
  webhookUrl?: string;
  webhookSecret?: string;
  reconcileWindowMs?: number;
  /** Defaults to a fresh queue; pass one when the API under test must start on it. */
  taskQueue?: string;
  /** CTA flows: the signing keyring, and the client their activities signal other workflows with. */
  getCtaKeyring?: () => Promise<CtaKeyring>;
  client?: Client;
  /** Where the emulator's seeded CTA template's buttons point. */
  ctaBaseUrl?: string;
  /** Counts sends by provider and outcome, as the worker process does (src/metrics.ts). */
  sends?: SendCounter;
  /** The provider limit: the send queue's pacing and the send-window ledger (default 200/s: effectively unlimited). */
  sendsPerSecond?: number;
  /** Replaces the send-window ledger made from `sendsPerSecond` (tests of the ledger use short windows). */
  sendLimit?: SendLimit;
  /** Whether the emulator posts sent/delivered/read by itself (default: when a webhook URL is given). */
  autoWebhooks?: boolean;
  /** The provider's fetch, so a caller can hold or inspect a send on its way to the emulator. */
  providerFetch?: typeof fetch;
  /** Wires Interakt's Track APIs (the same emulator), as the worker does; without it a track call fails as unconfigured. */
  interaktTracking?: boolean;
}

/**
 * A real worker (both queues) against a real Temporal server, a real database and the Interakt
 * emulator over HTTP: the pieces a drip needs, wired the way src/worker/main.ts wires them. Message
 * Master holds the emulator's templates, Approved, as after a sync.
 */
export async function startDripHarness(options: DripHarnessOptions) {
  await seedTemplates(options.db, [
    ...DEFAULT_EMULATOR_TEMPLATES,
    ...ctaEmulatorTemplates(options.ctaBaseUrl ?? 'http://localhost:3000'),
  ]);
  const emulator = await startInteraktEmulator({
    apiKey: EMULATOR_KEY,
    webhookUrl: options.webhookUrl,
    webhookSecret: options.webhookSecret,
    autoWebhooks: options.autoWebhooks ?? options.webhookUrl !== undefined,
    ctaBaseUrl: options.ctaBaseUrl ?? 'http://localhost:3000',
  });
  const account = { baseUrl: emulator.baseUrl, getApiKey: () => EMULATOR_KEY, timeoutMs: 2_000 };
  const provider = createInteraktProvider({
    ...account,
    ...(options.providerFetch && { fetch: options.providerFetch }),
  });
  const taskQueue = options.taskQueue ?? uniqueTaskQueue('drip');
  const sendLimit = options.sendLimit ?? createSendLimit(options.db, { sendsPerSecond: options.sendsPerSecond ?? 200 });
  const workers: Worker[] = await createWorkers({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue,
    activities: createActivities({
      db: options.db,
      provider,
      reconcileWindowMs: options.reconcileWindowMs ?? 3_000,
      configRetryDelayMs: 1_000,
      sendLimit,
      ...(options.getCtaKeyring && { getCtaKeyring: options.getCtaKeyring }),
      ...(options.client && { temporal: options.client }),
      ...(options.sends && { sends: options.sends }),
      ...(options.interaktTracking && { getInteraktTrackClient: () => createInteraktTrackClient(account) }),
      log: silentLogger(),
    }),
    provider: 'interakt',
    sendsPerSecond: sendLimit.sendsPerSecond,
    workflowBundle: await bundleWorkflows(),
  });
  const running = runWorkers(workers);

  return {
    emulator,
    taskQueue,
    sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
    /** Messages the provider accepted, in order. */
    accepted: () => emulator.emulator.state.acceptedMessages(),
    async stop() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await emulator.close();
    },
  };
}

export type DripHarness = Awaited<ReturnType<typeof startDripHarness>>;

let phoneCounter = 0;
/** A distinct valid Indian mobile number per call. */
export function nextPhone(): string {
  phoneCounter += 1;
  return `+9198${String(10_000_000 + phoneCounter * 7919 + Math.floor(Math.random() * 1000)).slice(-8)}`;
}

/** Creates a lead, a sequence and its assignment row, and starts the drip workflow directly. */
export async function startDrip(
  db: Db,
  client: Client,
  harness: DripHarness,
  steps: StepInput[],
  lead: { name?: string; phone?: string; timeZone?: string } = {},
  /** The sequence's own send rules (window, quiet days, exits, transactional). */
  sendRules?: SequenceSendRules,
) {
  const createdLead = await createLead(db, {
    name: lead.name ?? 'Asha Rao',
    phone: lead.phone ?? nextPhone(),
    ...(lead.timeZone && { timeZone: lead.timeZone }),
  });
  const sequence = await createSequence(db, {
    name: `seq ${Date.now()}-${Math.random()}`,
    steps,
    ...(sendRules && { sendRules }),
  });
  const snapshot = sequence.steps.map(({ templateName, templateLanguage, delaySeconds, variables }) => ({
    templateName,
    templateLanguage,
    delaySeconds,
    variables,
  }));
  const { created } = await createAssignments(
    db,
    [{ leadId: createdLead.id, sequenceId: sequence.id, sequenceVersion: sequence.version, steps: snapshot }],
    dripWorkflowId,
  );
  const assignmentId = created[0]!.id;
  const input: DripWorkflowInput = {
    assignmentId,
    leadId: createdLead.id,
    sequenceId: sequence.id,
    sequenceVersion: sequence.version,
    steps: snapshot,
    sendTaskQueue: harness.sendTaskQueue,
  };
  const handle = await client.workflow.start<typeof dripWorkflow>('dripWorkflow', {
    taskQueue: harness.taskQueue,
    workflowId: dripWorkflowId(assignmentId),
    args: [input],
  });
  return { lead: createdLead, sequence, assignmentId, handle, assignment: () => getAssignment(db, assignmentId) };
}

/** Polls until `probe` returns a truthy value (real time), failing after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  what: string,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const DAY = 24 * 3600;

/** A step of the emulator's seeded one-variable template, with {{1}} = the lead's name. */
export const step = (templateName: string, delaySeconds: number): StepInput => ({
  templateName,
  templateLanguage: 'en',
  delaySeconds,
  variables: { body: [{ field: 'name' }] },
});
