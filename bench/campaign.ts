/**
 * `npm run bench:campaign -- [--recipients 10000] [--rate 4.5] [--in-flight 20] [--record] [--keep]`
 *
 * A campaign at the provider's configured send rate (issue 11): the rate it achieves against
 * 0.98 × the configured rate, the busiest 60-second window of sends against the plan limit
 * (configured rate ÷ 0.9, the margin INTERAKT_SENDS_PER_SECOND keeps under Interakt's 300/min), and
 * a transactional message (a welcome: the same priority as a CTA message) started when half the
 * recipients have been sent, timed from its start to its acceptance at the emulator. Twice in one
 * run, on fresh task queues: with priorities (ours) and with the campaign's sends at the
 * transactional priority too (baseline: one first-come queue, as before priorities).
 *
 * Set-up (untimed): the dev server (temporal/dev-server-settings.cjs, persisted to a file), the
 * Interakt emulator in-process (no webhooks), a migrated SQLite file with `--recipients` leads,
 * and the real worker code in this process (src/worker/workers.ts: the send queue paced by the
 * server and held to `--rate` by the send-window ledger, src/messages/send-limit.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { campaignWorkflowId, type CampaignWorkflowInput } from '../src/campaigns/contract';
import type { campaignWorkflow } from '../src/campaigns/workflow';
import { openDb } from '../src/db/client';
import { migrate } from '../src/db/migrate';
import { createCampaign, createLead, getCampaign } from '../src/db/queries';
import { createInteraktEmulator, INTERAKT_API_PREFIX, type AcceptedMessage } from '../src/emulators/interakt';
import { createLogger } from '../src/logging/logger';
import { createInteraktProvider } from '../src/providers/interakt';
import { SEND_PRIORITY, sendTaskQueue } from '../src/shared';
import { welcomeWorkflowId, type WelcomeWorkflowInput } from '../src/welcome/contract';
import type { welcomeWorkflow } from '../src/welcome/workflow';
import { createSendLimit } from '../src/messages/send-limit';
import { createActivities } from '../src/worker/activities';
import { createWorkers, runWorkers } from '../src/worker/workers';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { seedTemplates } from '../test/support/templates';
import { appendBenchResult, insertBenchLeads } from './support/bench-files';
import { describeMachine, machineLine } from './support/machine';
import { fixed, markdownTable } from './support/stats';
import { Children, NAMESPACE, startDevServer } from './support/system';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'campaign.md');
const EMULATOR_KEY = 'bench-emulator-key';
const WINDOW_MS = 60_000;

const { values: args } = parseArgs({
  options: {
    recipients: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '4.5' },
    'in-flight': { type: 'string', default: '20' },
    record: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const recipients = Number(args.recipients);
const rate = Number(args.rate);
const inFlight = Number(args['in-flight']);
const planPerMinute = (rate / 0.9) * 60;

interface VariantResult {
  name: string;
  achievedPerSecond: number;
  busiest60s: number;
  welcomeLatencyMs: number;
  campaignSentBeforeWelcome: number;
  durationS: number;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-bench-campaign-'));
  const children = new Children(dir);
  const log = createLogger({ level: 'warn', name: 'bench' });
  const emulator = createInteraktEmulator({ apiKey: EMULATOR_KEY, autoWebhooks: false });
  const listening = await emulator.listen(0, '127.0.0.1');
  const db = await openDb(`file:${path.join(dir, 'crm.db')}`);
  try {
    await migrate(db);
    await seedTemplates(db);
    const leadIds = await insertBenchLeads(db, recipients);
    const server = await startDevServer(children, dir);
    const connection = await NativeConnection.connect({ address: server.address });
    const client = new Client({
      connection: await Connection.connect({ address: server.address }),
      namespace: NAMESPACE,
    });
    const provider = createInteraktProvider({
      baseUrl: `${listening.url}${INTERAKT_API_PREFIX}`,
      getApiKey: () => EMULATOR_KEY,
      timeoutMs: 10_000,
    });

    // Bundled once for both variants (the worker would bundle at each start).
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows') });
    const results: VariantResult[] = [];
    for (const variant of [
      { name: 'baseline: one priority for every send', priorityKey: SEND_PRIORITY.transactional },
      { name: 'ours: transactional before campaign', priorityKey: SEND_PRIORITY.campaign },
    ]) {
      const taskQueue = `bench-campaign-${results.length}`;
      // Each variant starts with an empty minute in the send-window ledger, as the worker holds it.
      await db.orm.delete(db.schema.sendWindowSlots);
      const sendLimit = createSendLimit(db, { sendsPerSecond: rate });
      const activities = createActivities({
        db,
        provider,
        reconcileWindowMs: 120_000,
        configRetryDelayMs: 60_000,
        log,
        sendLimit,
      });
      const workers = await createWorkers({
        connection,
        namespace: NAMESPACE,
        taskQueue,
        activities,
        provider: 'interakt',
        sendsPerSecond: sendLimit.sendsPerSecond,
        workflowBundle,
        log,
      });
      const running = runWorkers(workers);
      const campaign = await createCampaign(db, {
        name: variant.name,
        templateName: 'drip_day_1',
        templateLanguage: 'en',
        variables: { body: [{ field: 'name' }] },
        leadIds,
      });
      const input: CampaignWorkflowInput = {
        campaignId: campaign.id,
        template: { templateName: 'drip_day_1', templateLanguage: 'en', variables: { body: [{ field: 'name' }] } },
        sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        pageSize: 100,
        maxInFlight: inFlight,
        sendMaxAttempts: 10,
        sendPriorityKey: variant.priorityKey,
      };
      const prefix = `${campaignWorkflowId(campaign.id)}:`;
      const ofCampaign = () => emulator.state.acceptedMessages().filter((m) => m.callbackData?.startsWith(prefix));
      const started = Date.now();
      await client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
        taskQueue,
        workflowId: campaignWorkflowId(campaign.id),
        args: [input],
      });
      process.stderr.write(`[bench] ${variant.name}: campaign ${campaign.id} started\n`);
      while (ofCampaign().length < recipients / 2) await sleep(100);

      const lead = await createLead(db, { name: 'Walk-in', phone: `+9191${String(campaign.id).padStart(8, '0')}` });
      const welcomeInput: WelcomeWorkflowInput = {
        leadId: lead.id,
        templateName: 'drip_day_1',
        templateLanguage: 'en',
        sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
      };
      const welcomeKey = `${welcomeWorkflowId(lead.id)}:0`;
      const welcomeStart = Date.now();
      const sentBefore = ofCampaign().length;
      await client.workflow.start<typeof welcomeWorkflow>('welcomeWorkflow', {
        taskQueue,
        workflowId: welcomeWorkflowId(lead.id),
        args: [welcomeInput],
      });
      let welcome: AcceptedMessage | undefined;
      while (!(welcome = emulator.state.acceptedMessages().find((m) => m.callbackData === welcomeKey))) await sleep(20);
      const welcomeLatencyMs = Date.parse(welcome.acceptedAt) - welcomeStart;
      const campaignSentBeforeWelcome =
        ofCampaign().filter((m) => m.acceptedAt <= welcome!.acceptedAt).length - sentBefore;

      for (;;) {
        const row = await getCampaign(db, campaign.id);
        if (row?.status === 'completed') break;
        await sleep(500);
      }
      const sends = [...ofCampaign(), welcome].map((m) => Date.parse(m.acceptedAt)).sort((a, b) => a - b);
      const spanS = (sends[sends.length - 1]! - sends[0]!) / 1000;
      results.push({
        name: variant.name,
        achievedPerSecond: (sends.length - 1) / spanS,
        busiest60s: busiestWindow(sends, WINDOW_MS),
        welcomeLatencyMs,
        campaignSentBeforeWelcome,
        durationS: (Date.now() - started) / 1000,
      });
      process.stderr.write(`[bench] ${JSON.stringify(results[results.length - 1])}\n`);
      for (const worker of workers) worker.shutdown();
      await running;
    }

    const machine = await describeMachine();
    const command = `npm run bench:campaign -- --recipients ${recipients} --rate ${rate} --in-flight ${inFlight}`;
    const report = [
      `## ${new Date().toISOString()}`,
      '',
      `${machineLine(machine)}`,
      '',
      `Command: \`${command}\``,
      '',
      `${recipients} recipients at ${rate}/s configured (plan limit ${fixed(planPerMinute, 0)}/min), ${inFlight} sends queued per campaign; a welcome started when half were sent.`,
      '',
      markdownTable(
        [
          'variant',
          'achieved/s',
          '≥ 0.98 × rate',
          'busiest 60 s',
          '≤ plan limit',
          'welcome latency',
          'campaign sends ahead of it',
          'run',
        ],
        results.map((r) => [
          r.name,
          fixed(r.achievedPerSecond, 3),
          r.achievedPerSecond >= 0.98 * rate ? 'met' : 'not met',
          String(r.busiest60s),
          r.busiest60s <= planPerMinute ? 'met' : 'not met',
          `${fixed(r.welcomeLatencyMs / 1000, 2)} s`,
          String(r.campaignSentBeforeWelcome),
          `${fixed(r.durationS, 0)} s`,
        ]),
      ),
      '',
    ].join('\n');
    process.stdout.write(`${report}\n`);
    if (args.record) appendBenchResult(RESULTS_FILE, 'bench:campaign', 'bench:campaign', report);
    await connection.close();
  } finally {
    await children.stopAll();
    await listening.close();
    await db.close();
    if (!args.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The most timestamps in any window of `windowMs` (each window starting at a send). */
function busiestWindow(sorted: readonly number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
