/**
 * `npm run test:cluster -- [--leads 10000] [--rate 10] [--delay 300] [--workers 3] [--apis 2] [--kill-every 15]
 *                          [--restart-leads 2000] [--send-partitions 1] [--record] [--keep]`
 *
 * Dripline's production claims, tested on the production shape (temporal/cluster/): a Temporal
 * cluster on PostgreSQL with 4 task-queue partitions, 3 workers and 2 API processes on one CRM
 * database, the Interakt emulator over HTTP. Not a vitest file: it runs for minutes and its pass
 * conditions include rates, which belong to a named command with recorded results, not to
 * `npm test` (see temporal/README.md for why it is not in CI).
 *
 * Phase A, `--leads` leads on a one-step drip whose step is due `--delay` s after its first task,
 * the Interakt send rate set to R = `--rate`:
 *   - enrolled through the balancer in calls of 100; one API process is SIGKILLed halfway through
 *     enrolment and started again (a call it dropped is retried, as a caller would);
 *   - from the first send on, a random worker is SIGKILLed every `--kill-every` s and started again;
 *   - a live-log stream (GET /messages/stream) is open on each API process throughout, and the
 *     signed webhooks the emulator posts are also replayed to both API processes at once.
 *   Pass: the emulator never sees more than R × 60 sends in any 60-second window, and sustains
 *   ≥ 0.98 × R while sends are due; every lead gets exactly one message; no assignment is left
 *   pending or active; every message reaches `read`, each status change reaches both streams once,
 *   and each webhook event is stored and applied once.
 * Phase B, `--restart-leads` more leads on a drip whose step is due 90 s after enrolment: the
 * Temporal server is SIGKILLed while their timers are pending and started again 15 s later, so
 * some timers fall due while it is down. Pass: every one of them still sends exactly one message.
 *
 * `--send-partitions 4` runs the send queue on 4 partitions instead of production's 1 (the task
 * queue is then named `dripline-p4`, which production.yaml does not pin): the rate limit is then
 * split over the partitions, and the report shows what that does to the figures.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Connection } from '@temporalio/client';
import { and, count, desc, eq, gt, inArray, isNotNull, ne } from 'drizzle-orm';
import { appendBenchResult, assignmentStatusCounts, insertBenchLeads } from '../../bench/support/bench-files';
import { describeMachine, machineLine } from '../../bench/support/machine';
import { machineCpu, readCpuSeconds } from '../../bench/support/sampler';
import { markdownTable, fixed } from '../../bench/support/stats';
import { NAMESPACE } from '../../bench/support/system';
import { generateApiKey } from '../../src/api/auth';
import { openDb, type Db } from '../../src/db/client';
import { createApiKey, createSequence } from '../../src/db/queries';
import { sendTaskQueue } from '../../src/shared';
import { startCluster, type Cluster } from '../../temporal/cluster/cluster';
import { startDripline, type Dripline } from '../../temporal/cluster/dripline';
import { REPO_ROOT } from '../../temporal/paths.cjs';
import { Supervisor } from '../../temporal/cluster/supervisor';
import { ensureClusterTools } from '../../temporal/cluster/tools';
import { seedTemplates } from '../support/templates';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'cluster-scale.md');
const ENROL_BATCH = 100;
const PHASE_B_DELAY_S = 90;
const SERVER_DOWN_MS = 15_000;
/** The emulator's webhooks, spaced so each status outlives the live log's 1 s settle + 0.5 s poll. */
const WEBHOOK_DELAYS_MS = { sent: 1_000, delivered: 4_000, read: 8_000 };
const MIN_SHARE_OF_RATE = 0.98;

interface Options {
  leads: number;
  rate: number;
  /**
   * Phase A's step delay. Long enough that every drip has run its first task before the first
   * sends fall due: on 2 cores the first tasks of 10,000 enrolments take minutes, and while they
   * queue ahead of the sends' workflow tasks the send queue would run dry for want of work, which
   * says nothing about the rate limit.
   */
  delaySeconds: number;
  workers: number;
  apis: number;
  killEverySeconds: number;
  restartLeads: number;
  sendPartitions: 1 | 4;
  record: boolean;
  keep: boolean;
}

const started = Date.now();
/** The last progress line, for the record of a run that did not finish. */
let lastProgress = '';
const say = (line: string): void => {
  if (line.startsWith('enrolled ')) lastProgress = line;
  process.stdout.write(`[scale ${fixed((Date.now() - started) / 1000, 0).padStart(4)} s] ${line}\n`);
};

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      leads: { type: 'string', default: '10000' },
      rate: { type: 'string', default: '10' },
      delay: { type: 'string', default: '300' },
      workers: { type: 'string', default: '3' },
      apis: { type: 'string', default: '2' },
      'kill-every': { type: 'string', default: '15' },
      'restart-leads': { type: 'string', default: '2000' },
      'send-partitions': { type: 'string', default: '1' },
      record: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const number = (name: string, raw: string | undefined, min: number, max: number): number => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max)
      throw new Error(`--${name} must be ${min}..${max}, got "${raw}"`);
    return value;
  };
  const sendPartitions = number('send-partitions', values['send-partitions'], 1, 4);
  if (sendPartitions !== 1 && sendPartitions !== 4) throw new Error('--send-partitions must be 1 (production) or 4');
  return {
    leads: Math.round(number('leads', values.leads, 100, 100_000)),
    rate: number('rate', values.rate, 0.5, 200),
    delaySeconds: Math.round(number('delay', values.delay, 10, 3_600)),
    workers: Math.round(number('workers', values.workers, 1, 8)),
    apis: Math.round(number('apis', values.apis, 2, 4)),
    killEverySeconds: number('kill-every', values['kill-every'], 2, 600),
    restartLeads: Math.round(number('restart-leads', values['restart-leads'], 0, 20_000)),
    sendPartitions,
    record: values.record ?? false,
    keep: values.keep ?? false,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const command = `npm run test:cluster${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const tools = ensureClusterTools(say);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-scale-'));
  const supervisor = new Supervisor(dir, say);
  let failed = false;
  supervisor.addCleanup(() => {
    if (options.keep || failed) say(`kept ${dir} (every process's log, PostgreSQL data, crm.db)`);
    else fs.rmSync(dir, { recursive: true, force: true });
  });
  let db: Db | undefined;
  try {
    say(`state and logs in ${dir}`);
    const cluster = await startCluster(supervisor, tools, { ui: false, log: say });
    const taskQueue = options.sendPartitions === 1 ? 'dripline' : 'dripline-p4';
    const dripline = await startDripline(supervisor, cluster, {
      workers: options.workers,
      apis: options.apis,
      taskQueue,
      sendsPerSecond: options.rate,
      databaseFile: path.join(dir, 'crm.db'),
      log: say,
    });
    db = await openDb(dripline.databaseUrl);
    const partitions = await describePartitions(cluster.address, taskQueue);
    say(
      `task-queue partitions: ${taskQueue} ${partitions.main}, ${sendTaskQueue(taskQueue, 'interakt')} ${partitions.send}`,
    );

    const run = await runScaleTest({ options, supervisor, cluster, dripline, db });
    const machine = await describeMachine();
    const report = renderReport({ options, command, machine: machineLine(machine), cluster, partitions, run });
    process.stdout.write(`\n${report.markdown}\n`);
    if (options.record) {
      appendBenchResult(RESULTS_FILE, 'Scale tests on the Temporal cluster', 'test:cluster', report.markdown);
      say(`recorded in ${path.relative(process.cwd(), RESULTS_FILE)}`);
    }
    failed = !report.ok;
  } catch (error) {
    failed = true;
    const message = error instanceof Error ? error.message : String(error);
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (options.record) {
      // A run that did not get to its checks is recorded too: what it reached, and how loaded the machine was.
      const machine = machineLine(await describeMachine());
      appendBenchResult(
        RESULTS_FILE,
        'Scale tests on the cluster',
        'test:cluster',
        [
          `## Scale test on the cluster, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}: did not finish`,
          '',
          `Command: \`${command}\` (stopped after ${fixed((Date.now() - started) / 1000, 0)} s)`,
          '',
          `Machine: ${machine} Load average at the end (1/5/15 min): ${os
            .loadavg()
            .map((n) => fixed(n, 1))
            .join(' / ')}.`,
          '',
          `Stopped by: ${message}`,
          '',
          `Last progress: ${lastProgress || '(none)'}`,
          '',
          'Result: **FAIL** (no checks ran).',
        ].join('\n'),
      );
      say(`recorded in ${path.relative(process.cwd(), RESULTS_FILE)}`);
    }
  } finally {
    await db?.close().catch(() => {});
    await supervisor.stopAll();
  }
  say(failed ? 'FAILED' : 'passed');
  process.exit(failed ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// The run

interface RunContext {
  options: Options;
  supervisor: Supervisor;
  cluster: Cluster;
  dripline: Dripline;
  db: Db;
}

interface RunResult {
  phaseA: PhaseResult;
  phaseB: PhaseResult | null;
  workerKills: number;
  apiKill: { name: string; atCall: number; callsRetried: number; leadsRecovered: number } | null;
  serverRestart: { unavailableMs: number; timersDueWhileDown: number } | null;
  streams: StreamResult[];
  webhooks: WebhookResult;
  rate: RateResult;
  durationS: number;
}

interface PhaseResult {
  leads: number;
  enrolS: number;
  enrolRate: number;
  messages: number;
  leadsWithOneMessage: number;
  leadsWithNone: number;
  leadsWithMore: number;
  assignments: Record<string, number>;
  drainS: number;
}

async function runScaleTest(context: RunContext): Promise<RunResult> {
  const { options, supervisor, cluster, dripline, db } = context;
  const runStarted = Date.now();

  // Set-up: Message Master as after a template sync, the leads, an API key, the two sequences.
  await seedTemplates(db);
  const leadIds = await insertBenchLeads(db, options.leads + options.restartLeads);
  const phaseALeads = leadIds.slice(0, options.leads);
  const phaseBLeads = leadIds.slice(options.leads);
  const { key, keyHash, keyPrefix } = generateApiKey();
  await createApiKey(db, { name: 'scale-test', keyHash, keyPrefix });
  const step = (delaySeconds: number) => ({
    templateName: 'drip_day_1',
    templateLanguage: 'en',
    delaySeconds,
    variables: { body: [{ field: 'name' as const }] },
  });
  const sequenceA = await createSequence(db, {
    name: `scale A ${crypto.randomUUID()}`,
    steps: [step(options.delaySeconds)],
  });
  const sequenceB = await createSequence(db, {
    name: `scale B ${crypto.randomUUID()}`,
    steps: [step(PHASE_B_DELAY_S)],
  });
  await postJson(`${dripline.emulatorUrl}/__emulator/settings`, { webhookDelaysMs: WEBHOOK_DELAYS_MS });
  say(
    `${leadIds.length} leads, sequences ${sequenceA.id} (step after ${options.delaySeconds} s) and ${sequenceB.id} (after ${PHASE_B_DELAY_S} s)`,
  );

  // Live-log streams, one per API process, reconnecting with Last-Event-ID when their process dies.
  const streams = dripline.apiUrls.map((url, i) => new LiveLogStream(dripline.apiNames[i]!, url, key));
  for (const stream of streams) stream.open();

  // Webhook replays: every delivery the emulator made is posted again to every API process at once.
  const replayer = new WebhookReplayer(dripline, db);

  // ---- Phase A: enrolment with one API process killed halfway --------------------------------
  const apiToKill = dripline.apiNames[0]!;
  const calls = chunk(phaseALeads, ENROL_BATCH);
  const killAtCall = Math.floor(calls.length / 2);
  let apiKill: RunResult['apiKill'] = null;
  const failedCalls: number[][] = [];
  const progress = new Progress(context, sequenceA.id, options.leads);
  progress.start();
  const enrolStarted = Date.now();
  let callsRetried = 0;
  let killedAt = 0;
  await forEachConcurrently(calls, 4, async (leads, index) => {
    if (index === killAtCall && !apiKill) {
      apiKill = { name: apiToKill, atCall: index, callsRetried: 0, leadsRecovered: 0 };
      killedAt = Date.now();
      say(`SIGKILL ${apiToKill} during enrolment (call ${index} of ${calls.length})`);
      await supervisor.kill(apiToKill);
      void sleep(3_000)
        .then(() => dripline.restart(apiToKill))
        .then(() => say(`${apiToKill} serving again`));
    }
    for (let attempt = 1; ; attempt++) {
      const response = await postJson(
        `${dripline.balancer.url}/sequences/${sequenceA.id}/assignments`,
        { leadIds: leads },
        key,
      ).catch((error: Error) => ({ status: 0, body: { error: error.message } }));
      if (response.status === 201 || response.status === 200) {
        if (attempt > 1) failedCalls.push(leads);
        return;
      }
      callsRetried += 1;
      if (attempt >= 20)
        throw new Error(
          `enrolment call failed 20 times: HTTP ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`,
        );
      await sleep(1_000);
    }
  });
  const enrolS = (Date.now() - enrolStarted) / 1000;
  say(
    `phase A: ${options.leads} leads enrolled in ${fixed(enrolS)} s (${fixed(options.leads / enrolS)}/s), ${callsRetried} calls retried`,
  );
  if (apiKill) (apiKill as { callsRetried: number }).callsRetried = callsRetried;

  // A call the killed API dropped may have left rows whose workflow never started; the API starts
  // such a row when the lead is assigned again after a minute (src/api/enrol.ts, STALE_PENDING_MS).
  if (failedCalls.length > 0) {
    await sleep(killedAt + 62_000 - Date.now());
    const again = failedCalls.flat();
    const response = await postJson(
      `${dripline.balancer.url}/sequences/${sequenceA.id}/assignments`,
      { leadIds: again },
      key,
    );
    const restarted = (response.body as { started?: number }).started ?? 0;
    (apiKill as unknown as { leadsRecovered: number }).leadsRecovered = restarted;
    say(`re-assigned the ${again.length} leads of retried calls: ${restarted} stalled assignments started again`);
  }

  // ---- Phase A: sends, with workers killed ---------------------------------------------------
  await waitUntil('the first send', 5 * 60_000, supervisor, async () => (await emulatorCount(dripline)) > 0);
  say(`first send; killing a random worker every ${options.killEverySeconds} s`);
  replayer.start();
  const chaos = new WorkerChaos(context, options.killEverySeconds);
  chaos.start();
  const expectedSendS = options.leads / options.rate;
  const drainStarted = Date.now();
  await waitUntil(
    'phase A to complete',
    (expectedSendS + 600) * 1000,
    supervisor,
    async () => (await assignmentStatusCounts(db, sequenceA.id)).completed === options.leads,
  );
  await chaos.stop();
  const drainS = (Date.now() - drainStarted) / 1000;
  const phaseAEnded = Date.now();
  say(`phase A: every assignment completed ${fixed(drainS)} s after the first send; ${chaos.kills} worker kills`);

  // ---- Phase B: a server crash while timers are pending --------------------------------------
  let serverRestart: RunResult['serverRestart'] = null;
  let phaseB: PhaseResult | null = null;
  if (phaseBLeads.length > 0) {
    progress.switchTo(sequenceB.id, phaseBLeads.length);
    const bStarted = Date.now();
    await forEachConcurrently(chunk(phaseBLeads, ENROL_BATCH), 4, async (leads) => {
      const response = await postJson(
        `${dripline.balancer.url}/sequences/${sequenceB.id}/assignments`,
        { leadIds: leads },
        key,
      );
      if (response.status !== 201) throw new Error(`phase B enrolment: HTTP ${response.status}`);
    });
    const bEnrolS = (Date.now() - bStarted) / 1000;
    // The first timers fall due PHASE_B_DELAY_S after the first enrolment: crash 5 s before that,
    // so the first timers come due while the server is down and the rest after it is back.
    const crashAt = bStarted + (PHASE_B_DELAY_S - 5) * 1000;
    await sleep(crashAt - Date.now());
    const dueWhileDown =
      phaseBLeads.length > 0
        ? await countTimersDue(db, sequenceB.id, PHASE_B_DELAY_S, Date.now(), Date.now() + SERVER_DOWN_MS)
        : 0;
    say(`SIGKILL the Temporal server with ${phaseBLeads.length} timers pending (${dueWhileDown} due while it is down)`);
    const { unavailableMs } = await cluster.crashAndRestartServer(SERVER_DOWN_MS);
    serverRestart = { unavailableMs, timersDueWhileDown: dueWhileDown };
    say(`Temporal server serving again after ${fixed(unavailableMs / 1000)} s`);
    const bDrainStarted = Date.now();
    await waitUntil(
      'phase B to complete',
      (phaseBLeads.length / options.rate + 600) * 1000,
      supervisor,
      async () => (await assignmentStatusCounts(db, sequenceB.id)).completed === phaseBLeads.length,
    );
    phaseB = await phaseResult(db, dripline, sequenceB.id, phaseBLeads, bEnrolS, (Date.now() - bDrainStarted) / 1000);
  }

  // Webhooks still on their way (read comes 8 s after acceptance), then everything settles.
  progress.stop();
  say('waiting for the last webhooks and live-log events');
  await waitUntil('every message to be read', 120_000, supervisor, async () => (await unreadMessages(db)) === 0).catch(
    (error: Error) => say(error.message),
  );
  await sleep(5_000);
  await replayer.stop();
  for (const stream of streams) stream.close();

  const phaseA = await phaseResult(db, dripline, sequenceA.id, phaseALeads, enrolS, drainS);
  const messages = await emulatorMessages(dripline);
  const phaseAKeys = new Set((await assignmentIds(db, sequenceA.id)).map((id) => `drip-${id}:0`));
  return {
    phaseA,
    phaseB,
    workerKills: chaos.kills,
    apiKill,
    serverRestart,
    streams: streams.map((stream) => stream.result()),
    webhooks: await webhookResult(db, replayer),
    rate: rateResult(
      messages.filter((message) => message.callbackData !== null && phaseAKeys.has(message.callbackData)),
      progress.sendBacklog.filter((sample) => sample.at <= phaseAEnded),
    ),
    durationS: (Date.now() - runStarted) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// What the run watches while it goes

/**
 * One live-log stream (server-sent events) on one API process, as the console holds it: when the
 * connection drops (its process was killed) it reconnects with the last event id it got.
 */
class LiveLogStream {
  /** Every event received: message id, status, UpdatedAt. */
  private readonly events: { id: number; status: string; updatedAt: string }[] = [];
  private lastEventId: string | null = null;
  private closed = false;
  private request: http.ClientRequest | null = null;
  reconnects = 0;

  constructor(
    readonly name: string,
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  open(): void {
    if (this.closed) return;
    const url = new URL('/messages/stream', this.baseUrl);
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: 'text/event-stream' };
    if (this.lastEventId) headers['last-event-id'] = this.lastEventId;
    const retry = () => {
      if (this.closed) return;
      this.reconnects += 1;
      setTimeout(() => this.open(), 1_000);
    };
    this.request = http.get(url, { headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        retry();
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        buffer += text;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.onEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      });
      res.on('close', retry);
      res.on('error', () => {});
    });
    this.request.on('error', retry);
  }

  close(): void {
    this.closed = true;
    this.request?.destroy();
  }

  private onEvent(block: string): void {
    let id: string | null = null;
    let data: string | null = null;
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data = line.slice(6);
    }
    if (!data) return; // a comment (heartbeat)
    if (id) this.lastEventId = id;
    const row = JSON.parse(data) as { id: number; status: string; updatedAt: string; direction?: string };
    this.events.push({ id: row.id, status: row.status, updatedAt: row.updatedAt });
  }

  result(): StreamResult {
    const versions = new Set<string>();
    let duplicates = 0;
    const statuses = new Map<number, Set<string>>();
    for (const event of this.events) {
      const version = `${event.id}@${event.updatedAt}`;
      if (versions.has(version)) duplicates += 1;
      versions.add(version);
      let seen = statuses.get(event.id);
      if (!seen) statuses.set(event.id, (seen = new Set()));
      seen.add(event.status);
    }
    const missing: Record<string, number> = { sent: 0, delivered: 0, read: 0 };
    for (const seen of statuses.values())
      for (const status of Object.keys(missing)) if (!seen.has(status)) missing[status]! += 1;
    return {
      name: this.name,
      events: this.events.length,
      messages: statuses.size,
      duplicates,
      missing,
      reconnects: this.reconnects,
    };
  }
}

interface StreamResult {
  name: string;
  events: number;
  messages: number;
  /** The same row version delivered twice. */
  duplicates: number;
  /** Messages on the stream that never showed this status. */
  missing: Record<string, number>;
  reconnects: number;
}

/**
 * Every second, the newest messages' `sent` webhook is delivered again by the emulator (through
 * the balancer) and its exact signed bytes posted to every API process at the same moment: a
 * provider's retry landing on another replica while the original is still being stored.
 */
class WebhookReplayer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private lastId = 0;
  replayed = 0;
  readonly outcomes = new Map<string, number>();
  failures = 0;

  constructor(
    private readonly dripline: Dripline,
    private readonly db: Db,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.tick()).catch(() => {});
    }, 1_000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    const t = this.db.schema.whatsAppMessages;
    const newest = await this.db.orm
      .select({ id: t.id, providerMessageId: t.providerMessageId })
      .from(t)
      .where(and(eq(t.direction, 'outgoing'), gt(t.id, this.lastId), isNotNull(t.providerMessageId)))
      .orderBy(desc(t.id))
      .limit(5);
    for (const row of newest) {
      this.lastId = Math.max(this.lastId, row.id);
      const delivery = await postJson(`${this.dripline.emulatorUrl}/__emulator/webhooks`, {
        messageId: row.providerMessageId,
        type: 'message_api_sent',
      });
      const { rawBody, signature } =
        (delivery.body as { delivery?: { rawBody: string; signature: string } }).delivery ?? {};
      if (!rawBody || !signature) continue;
      this.replayed += 1;
      await Promise.all(
        this.dripline.apiUrls.map(async (url) => {
          const response = await postRaw(`${url}/webhooks/interakt`, rawBody, {
            'interakt-signature': signature,
          }).catch(() => null);
          if (!response || response.status !== 200) this.failures += 1;
          else this.count((response.body as { outcome?: string }).outcome ?? 'unknown');
        }),
      );
    }
  }

  private count(outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }
}

/** SIGKILLs a random running worker every `everySeconds` and starts it again a second later. */
class WorkerChaos {
  private timer: NodeJS.Timeout | null = null;
  private readonly restarts = new Set<Promise<void>>();
  kills = 0;

  constructor(
    private readonly context: RunContext,
    private readonly everySeconds: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.killOne(), this.everySeconds * 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.restarts);
  }

  private async killOne(): Promise<void> {
    const { supervisor, dripline } = this.context;
    const running = dripline.workerNames.filter((name) => supervisor.isRunning(name));
    // Never the last one standing: the point is many workers coming and going, not none at all.
    if (running.length < 2) return;
    const victim = running[Math.floor(Math.random() * running.length)]!;
    this.kills += 1;
    await supervisor.kill(victim);
    const restart = sleep(1_000)
      .then(() => dripline.restart(victim))
      .catch((error: Error) => {
        say(`could not restart ${victim}: ${error.message}`);
      })
      .finally(() => this.restarts.delete(restart));
    this.restarts.add(restart);
  }
}

/** A progress line every 5 s: where the run is, and how fast sends go. */
class Progress {
  private timer: NodeJS.Timeout | null = null;
  private lastSent = 0;
  private lastAt = Date.now();
  private lastCpu = new Map<string, number>();
  private lastMachine = machineCpu();
  private connection: Connection | null = null;
  /** Every line's reading of the send queue's backlog: when it was non-empty, the limit was binding. */
  readonly sendBacklog: { at: number; backlog: number }[] = [];

  constructor(
    private readonly context: RunContext,
    private sequenceId: number,
    private total: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.print().catch(() => {}), 5_000);
  }

  switchTo(sequenceId: number, total: number): void {
    this.sequenceId = sequenceId;
    this.total = total;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    void this.connection?.close().catch(() => {});
  }

  /** The send queue's approximate backlog as the server reports it (`reportStats`), or null while it cannot say. */
  private async sendQueueBacklog(): Promise<number | null> {
    try {
      this.connection ??= await Connection.connect({ address: this.context.cluster.address });
      const response = (await this.connection.workflowService.describeTaskQueue({
        namespace: NAMESPACE,
        taskQueue: { name: sendTaskQueue(this.context.dripline.env.TEMPORAL_TASK_QUEUE!, 'interakt'), kind: 1 },
        taskQueueType: 2,
        reportStats: true,
      } as any)) as any;
      return Number(response.stats?.approximateBacklogCount ?? 0);
    } catch {
      return null;
    }
  }

  /**
   * Where the two cores went since the last line: the machine as a whole, then the Temporal server
   * and Dripline's processes by group (PostgreSQL's backends are separate processes, inside "all").
   */
  private cpuLine(seconds: number): string {
    const { supervisor, dripline } = this.context;
    const groups: Record<string, string[]> = {
      temporal: ['temporal'],
      workers: dripline.workerNames,
      apis: dripline.apiNames,
      emulator: ['emulator'],
    };
    const parts: string[] = [];
    for (const [group, names] of Object.entries(groups)) {
      let used = 0;
      for (const name of names) {
        if (!supervisor.isRunning(name)) continue;
        const pid = supervisor.pid(name);
        const cpu = readCpuSeconds(pid) ?? 0;
        const key = `${name}:${pid}`;
        used += cpu - (this.lastCpu.get(key) ?? cpu);
        this.lastCpu.set(key, cpu);
      }
      parts.push(`${group} ${fixed(used / seconds, 2)}`);
    }
    const machine = machineCpu();
    const busy = (machine.busy - this.lastMachine.busy) / seconds;
    this.lastMachine = machine;
    return `all ${fixed(busy, 2)} (${parts.join(', ')})`;
  }

  private async print(): Promise<void> {
    const { db, dripline, supervisor } = this.context;
    const counts = await assignmentStatusCounts(db, this.sequenceId);
    const sent = await emulatorCount(dripline);
    const now = Date.now();
    const seconds = (now - this.lastAt) / 1000;
    const rate = (sent - this.lastSent) / seconds;
    this.lastSent = sent;
    this.lastAt = now;
    const up = [...dripline.workerNames, ...dripline.apiNames].filter((name) => supervisor.isRunning(name)).length;
    const backlog = await this.sendQueueBacklog();
    if (backlog !== null) this.sendBacklog.push({ at: now, backlog });
    const enrolled = Object.values(counts).reduce((sum, n) => sum + n, 0);
    say(
      `enrolled ${enrolled}/${this.total}: pending ${counts.pending ?? 0}, active ${counts.active ?? 0}, completed ${counts.completed ?? 0}; ` +
        `emulator has ${sent} messages (${fixed(rate)}/s), send queue backlog ${backlog ?? '?'}; ${up}/${dripline.workerNames.length + dripline.apiNames.length} Dripline processes up; ` +
        `cores busy ${this.cpuLine(seconds)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the state

interface EmulatorMessage {
  id: string;
  acceptedAt: string;
  phone: string;
  callbackData: string | null;
}

async function emulatorCount(dripline: Dripline): Promise<number> {
  const body = (await getJson(`${dripline.emulatorUrl}/__emulator/health`)) as { acceptedMessages: number };
  return body.acceptedMessages;
}

async function emulatorMessages(dripline: Dripline): Promise<EmulatorMessage[]> {
  return ((await getJson(`${dripline.emulatorUrl}/__emulator/messages`)) as { messages: EmulatorMessage[] }).messages;
}

async function assignmentIds(db: Db, sequenceId: number): Promise<number[]> {
  const t = db.schema.leadDripAssignments;
  return (await db.orm.select({ id: t.id }).from(t).where(eq(t.sequenceId, sequenceId))).map((row) => row.id);
}

/** Assignments whose step (delay after enrolment) falls due in [from, to): roughly, the timer starts at the first workflow task. */
async function countTimersDue(
  db: Db,
  sequenceId: number,
  delaySeconds: number,
  from: number,
  to: number,
): Promise<number> {
  const t = db.schema.leadDripAssignments;
  const rows = await db.orm.select({ startedAt: t.startedAt }).from(t).where(eq(t.sequenceId, sequenceId));
  return rows.filter(({ startedAt }) => {
    const due = startedAt.getTime() + delaySeconds * 1000;
    return due >= from && due < to;
  }).length;
}

async function unreadMessages(db: Db): Promise<number> {
  const t = db.schema.whatsAppMessages;
  const [row] = await db.orm
    .select({ n: count() })
    .from(t)
    .where(and(eq(t.direction, 'outgoing'), ne(t.status, 'read')));
  return row?.n ?? 0;
}

async function phaseResult(
  db: Db,
  dripline: Dripline,
  sequenceId: number,
  leads: number[],
  enrolS: number,
  drainS: number,
): Promise<PhaseResult> {
  const clients = db.schema.clients;
  const phones = new Set<string>();
  for (const part of chunk(leads, 500)) {
    const rows = await db.orm.select({ phone: clients.phone }).from(clients).where(inArray(clients.id, part));
    for (const row of rows) phones.add(row.phone);
  }
  const perPhone = new Map<string, number>();
  for (const message of await emulatorMessages(dripline))
    if (phones.has(message.phone)) perPhone.set(message.phone, (perPhone.get(message.phone) ?? 0) + 1);
  const counts = [...phones].map((phone) => perPhone.get(phone) ?? 0);
  return {
    leads: leads.length,
    enrolS,
    enrolRate: leads.length / enrolS,
    messages: counts.reduce((sum, n) => sum + n, 0),
    leadsWithOneMessage: counts.filter((n) => n === 1).length,
    leadsWithNone: counts.filter((n) => n === 0).length,
    leadsWithMore: counts.filter((n) => n > 1).length,
    assignments: await assignmentStatusCounts(db, sequenceId),
    drainS,
  };
}

interface WebhookResult {
  /** Ledger rows (one per distinct event: provider + event type + provider message id). */
  stored: number;
  byOutcome: Record<string, number>;
  outgoingMessages: number;
  messagesByStatus: Record<string, number>;
  replayed: number;
  replayOutcomes: Record<string, number>;
  replayFailures: number;
}

async function webhookResult(db: Db, replayer: WebhookReplayer): Promise<WebhookResult> {
  const w = db.schema.webhookEvents;
  const m = db.schema.whatsAppMessages;
  const outcomes = await db.orm.select({ outcome: w.outcome, n: count() }).from(w).groupBy(w.outcome);
  const statuses = await db.orm
    .select({ status: m.status, n: count() })
    .from(m)
    .where(eq(m.direction, 'outgoing'))
    .groupBy(m.status);
  const byOutcome = Object.fromEntries(outcomes.map((row) => [row.outcome, row.n]));
  const messagesByStatus = Object.fromEntries(statuses.map((row) => [row.status, row.n]));
  return {
    stored: Object.values(byOutcome).reduce((sum, n) => sum + n, 0),
    byOutcome,
    outgoingMessages: Object.values(messagesByStatus).reduce((sum, n) => sum + n, 0),
    messagesByStatus,
    replayed: replayer.replayed,
    replayOutcomes: Object.fromEntries(replayer.outcomes),
    replayFailures: replayer.failures,
  };
}

interface RateResult {
  sends: number;
  /** Most sends the emulator accepted in any 60 s window, and in any 1 s window. */
  max60: number;
  max1: number;
  /** Where in the run the busiest 60 s window began, seconds after the first send. */
  max60StartS: number;
  /**
   * Sends per second over the stretches when the send queue held a backlog (work waiting for the
   * limiter): between two consecutive progress readings that both saw a backlog. Only there can a
   * rate limiter be asked to reach its rate; elsewhere the queue was empty and the pace was set by
   * the workflow tasks feeding it.
   */
  sustained: number;
  sustainedSpanS: number;
  /** Sends from the first to the 99th-percentile send, over that time: the overall pace. */
  overall: number;
  overallSpanS: number;
  /** Full 60 s windows from the first send (within the 99th-percentile span): sends in each. */
  windows: number[];
}

/** Sliding windows over the emulator's acceptance times, and the rate while the send queue had a backlog. */
function rateResult(messages: EmulatorMessage[], backlog: { at: number; backlog: number }[]): RateResult {
  const times = messages.map((message) => Date.parse(`${message.acceptedAt}Z`)).sort((a, b) => a - b);
  const maxIn = (windowMs: number): { max: number; start: number } => {
    let best = { max: 0, start: 0 };
    let end = 0;
    for (let start = 0; start < times.length; start++) {
      while (end < times.length && times[end]! < times[start]! + windowMs) end++;
      if (end - start > best.max) best = { max: end - start, start: times[start]! };
    }
    return best;
  };
  const countBetween = (from: number, to: number) => times.filter((t) => t >= from && t < to).length;
  const first = times[0] ?? 0;
  const p99Index = Math.max(0, Math.ceil(times.length * 0.99) - 1);
  const spanMs = (times[p99Index] ?? first) - first;
  const windows: number[] = [];
  for (let from = first; from + 60_000 <= first + spanMs; from += 60_000)
    windows.push(countBetween(from, from + 60_000));
  let busySends = 0;
  let busyMs = 0;
  for (let i = 1; i < backlog.length; i++) {
    const [a, b] = [backlog[i - 1]!, backlog[i]!];
    if (a.backlog > 0 && b.backlog > 0 && a.at >= first) {
      busySends += countBetween(a.at, b.at);
      busyMs += b.at - a.at;
    }
  }
  const busiest = maxIn(60_000);
  return {
    sends: times.length,
    max60: busiest.max,
    max1: maxIn(1_000).max,
    max60StartS: (busiest.start - first) / 1000,
    sustained: busyMs > 0 ? busySends / (busyMs / 1000) : 0,
    sustainedSpanS: busyMs / 1000,
    overall: spanMs > 0 ? p99Index / (spanMs / 1000) : 0,
    overallSpanS: spanMs / 1000,
    windows,
  };
}

/**
 * How many partitions of each queue have pollers: a worker's polls land on a partition at random,
 * so a queue with 4 read partitions shows pollers on all 4, one pinned to 1 only on its root.
 * Also the send queue's rate limit as the server reports it (all partitions together).
 */
async function describePartitions(
  address: string,
  taskQueue: string,
): Promise<{ main: string; send: string; sendRateLimit: string }> {
  const connection = await Connection.connect({ address });
  try {
    const polled = async (name: string, taskQueueType: number): Promise<number[]> => {
      const found: number[] = [];
      for (let i = 0; i < 8; i++) {
        const partition = i === 0 ? name : `/_sys/${name}/${i}`;
        const response = await connection.workflowService
          .describeTaskQueue({ namespace: NAMESPACE, taskQueue: { name: partition, kind: 1 }, taskQueueType })
          .catch(() => null);
        if (response && response.pollers.length > 0) found.push(i);
      }
      return found;
    };
    const sendQueue = sendTaskQueue(taskQueue, 'interakt');
    // Pollers register on a partition when they poll it; give every partition time to be polled.
    let main: number[] = [];
    let send: number[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      main = await polled(taskQueue, 1);
      send = await polled(sendQueue, 2);
      if (main.length >= 4 && send.length >= 1) break;
      await sleep(2_000);
    }
    const described = (await connection.workflowService.describeTaskQueue({
      namespace: NAMESPACE,
      taskQueue: { name: sendQueue, kind: 1 },
      taskQueueType: 2,
    })) as any;
    const limit = described.effectiveRateLimit?.requestsPerSecond;
    const describe = (found: number[]) =>
      `${found.length} partition${found.length === 1 ? '' : 's'} polled (${found.join(', ')})`;
    return {
      main: describe(main),
      send: describe(send),
      sendRateLimit: limit === undefined ? 'not reported' : `${fixed(limit, 2)}/s`,
    };
  } finally {
    await connection.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function renderReport(input: {
  options: Options;
  command: string;
  machine: string;
  cluster: Cluster;
  partitions: { main: string; send: string; sendRateLimit: string };
  run: RunResult;
}): { markdown: string; ok: boolean } {
  const { options, run } = input;
  const R = options.rate;
  const checks: [string, string, boolean][] = [];
  const check = (what: string, figure: string, ok: boolean) => checks.push([what, figure, ok]);

  check(
    'at most R × 60 sends in any 60 s window',
    `max ${run.rate.max60} vs ${fixed(R * 60, 0)} (busiest window from ${fixed(run.rate.max60StartS, 0)} s)`,
    run.rate.max60 <= R * 60,
  );
  check(
    'sustained ≥ 0.98 × R while sends are waiting',
    `${fixed(run.rate.sustained, 2)}/s = ${fixed((100 * run.rate.sustained) / R, 1)}% of ${R}/s over the ${fixed(run.rate.sustainedSpanS, 0)} s the send queue had a backlog ` +
      `(overall, first to 99th-percentile send: ${fixed(run.rate.overall, 2)}/s over ${fixed(run.rate.overallSpanS, 0)} s)`,
    run.rate.sustained >= MIN_SHARE_OF_RATE * R,
  );
  for (const [label, phase] of [
    ['A', run.phaseA],
    ['B', run.phaseB],
  ] as const) {
    if (!phase) continue;
    check(
      `phase ${label}: every lead exactly one message`,
      `${phase.leadsWithOneMessage}/${phase.leads} with one; ${phase.leadsWithNone} with none; ${phase.leadsWithMore} with more`,
      phase.leadsWithOneMessage === phase.leads,
    );
    const open = (phase.assignments.pending ?? 0) + (phase.assignments.active ?? 0);
    check(
      `phase ${label}: no assignment pending or active`,
      JSON.stringify(phase.assignments),
      open === 0 && (phase.assignments.completed ?? 0) === phase.leads,
    );
  }
  const w = run.webhooks;
  const pending = w.byOutcome.pending ?? 0;
  check(
    'every message read; each webhook event stored and applied once',
    `${w.messagesByStatus.read ?? 0}/${w.outgoingMessages} read; ${w.stored} events stored for ${w.outgoingMessages} messages (${JSON.stringify(w.byOutcome)})`,
    (w.messagesByStatus.read ?? 0) === w.outgoingMessages && w.stored === 3 * w.outgoingMessages && pending === 0,
  );
  // A replay may beat the emulator's own delivery and be the one stored (`queued`); what matters
  // is that every copy was answered and the ledger above still holds each event once.
  check(
    'webhooks replayed to both APIs at once are absorbed',
    `${w.replayed} events, each also posted to all ${input.run.streams.length} APIs at once: ${JSON.stringify(w.replayOutcomes)}; ${w.replayFailures} not answered 200`,
    w.replayFailures === 0 && w.stored === 3 * w.outgoingMessages,
  );
  for (const stream of run.streams) {
    const missing = Object.values(stream.missing).reduce((sum, n) => sum + n, 0);
    check(
      `live log on ${stream.name}: every status change once`,
      `${stream.events} events for ${stream.messages}/${w.outgoingMessages} messages; missing ${JSON.stringify(stream.missing)}; ${stream.duplicates} repeated; ${stream.reconnects} reconnects`,
      stream.messages === w.outgoingMessages && missing === 0 && stream.duplicates === 0,
    );
  }
  if (run.serverRestart) {
    check(
      'timers pending across a server crash all fire',
      `server unavailable ${fixed(run.serverRestart.unavailableMs / 1000)} s; ~${run.serverRestart.timersDueWhileDown} timers due meanwhile; see phase B`,
      run.phaseB?.leadsWithOneMessage === run.phaseB?.leads,
    );
  }
  const ok = checks.every(([, , pass]) => pass);

  const lines = [
    `## Scale test on the cluster, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `Command: \`${input.command}\` (whole run ${fixed(run.durationS, 0)} s, set-up included)`,
    '',
    `Machine: ${input.machine} Load average at the end (1/5/15 min): ${os
      .loadavg()
      .map((n) => fixed(n, 1))
      .join(' / ')}.`,
    '',
    `Cluster: Temporal ${input.cluster.version} built from source, PostgreSQL (temporary data directory, default durability), ` +
      `${input.cluster.shards} history shards, services frontend/history/matching/worker in one process; dynamic config temporal/dynamicconfig/production.yaml. ` +
      `Main queue: ${input.partitions.main}; send queue: ${input.partitions.send}, server-reported rate limit ${input.partitions.sendRateLimit}.`,
    '',
    `Dripline: ${options.workers} workers, ${options.apis} API processes behind a round-robin balancer, one CRM SQLite file, the Interakt emulator as a process; ` +
      `R = INTERAKT_SENDS_PER_SECOND = ${R}/s; webhooks at +${WEBHOOK_DELAYS_MS.sent / 1000}/${WEBHOOK_DELAYS_MS.delivered / 1000}/${WEBHOOK_DELAYS_MS.read / 1000} s (sent/delivered/read).`,
    '',
    `Phase A: ${run.phaseA.leads} leads on a one-step drip due ${options.delaySeconds} s after its first task, enrolled at ${fixed(run.phaseA.enrolRate)}/s through the balancer; ` +
      (run.apiKill
        ? `${run.apiKill.name} SIGKILLed at enrolment call ${run.apiKill.atCall} and restarted 3 s later (${run.apiKill.callsRetried} calls retried, ${run.apiKill.leadsRecovered} stalled assignments started again by a re-assignment a minute later); `
        : '') +
      `${run.workerKills} worker SIGKILLs (one every ${options.killEverySeconds} s from the first send, each restarted 1 s later); all completed ${fixed(run.phaseA.drainS, 0)} s after the first send.` +
      (run.phaseB
        ? ` Phase B: ${run.phaseB.leads} leads due ${PHASE_B_DELAY_S} s after enrolment, the Temporal server SIGKILLed 5 s before the first was due and started again ${SERVER_DOWN_MS / 1000} s later.`
        : ''),
    '',
    markdownTable(
      ['check', 'measured', 'result'],
      checks.map(([what, figure, pass]) => [what, figure, pass ? 'pass' : '**FAIL**']),
    ),
    '',
    `Send rate detail: ${run.rate.sends} phase A sends; most in any 1 s window ${run.rate.max1} (R = ${R}); full 60 s windows from the first send: ${run.rate.windows.join(', ')} (R × 60 = ${fixed(R * 60, 0)}).`,
    '',
    `Result: **${ok ? 'pass' : 'FAIL'}**.`,
  ];
  return { markdown: lines.join('\n'), ok };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

interface JsonResponse {
  status: number;
  body: unknown;
}

async function postJson(url: string, body: unknown, apiKey?: string): Promise<JsonResponse> {
  return postRaw(url, JSON.stringify(body), {
    'content-type': 'application/json',
    ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
  });
}

async function postRaw(url: string, body: string, headers: Record<string, string>): Promise<JsonResponse> {
  const response = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (a gateway error page)
  }
  return { status: response.status, body: parsed };
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.json();
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

async function waitUntil(
  what: string,
  timeoutMs: number,
  supervisor: Supervisor,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    supervisor.assertHealthy();
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${fixed(timeoutMs / 1000, 0)} s waiting for ${what}`);
    await sleep(1_000);
  }
}

void main();
