/**
 * `npm run bench:webhooks -- [--messages 60000] [--connections 32] [--duration 15] [--rate 2000]
 *                            [--duplicates 0.1] [--record] [--keep]`
 *
 * Signed Interakt status webhooks against one API process (the real createApp on a SQLite file
 * with a seeded message log), next to a bare Express JSON endpoint measured in the same run.
 * Goal (issue 3): at least 2,000 requests/s with p99 under 50 ms. See bench/README.md.
 *
 * Every request is a distinct event (message id × sent/delivered/read, in that order per message)
 * except `--duplicates` of them, which repeat a recent earlier event: exactly what a retrying
 * provider does. Bodies are built and signed by the load generator as it goes, the same way for
 * both endpoints, so the client's cost is the same on both sides.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { count, eq } from 'drizzle-orm';
import { openDb, type Db } from '../src/db/client';
import { migrate } from '../src/db/migrate';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { cpuDelta, cpuSnapshot, machineCpu } from './support/sampler';
import { fixed, markdownTable } from './support/stats';
import { Children, freePort, startNodeChild } from './support/system';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'webhooks.md');
const SECRET = 'bench-webhook-secret';
const GOAL_RPS = 2_000;
const GOAL_P99_MS = 50;
const STATUSES = ['sent', 'delivered', 'read'] as const;
const SEED_AT = Date.parse('2030-01-01T00:00:00Z');

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '60000' },
    connections: { type: 'string', default: '32' },
    duration: { type: 'string', default: '15' },
    rate: { type: 'string', default: String(GOAL_RPS) },
    duplicates: { type: 'string', default: '0.1' },
    record: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'profile-api': { type: 'string' },
  },
});
const options = {
  messages: Number(args.messages),
  connections: Number(args.connections),
  duration: Number(args.duration),
  rate: Number(args.rate),
  duplicates: Number(args.duplicates),
};

/** Hands out events in order: message i's sent, then (later) its delivered, then its read. */
class EventSource {
  private next = 0;
  readonly distinct = new Set<number>();
  sent = 0;
  duplicatesSent = 0;

  /** `wrap`: start over after the last event (the baselines, whose events are never checked). */
  constructor(
    private readonly messages: number,
    private readonly duplicateShare: number,
    private readonly wrap = false,
  ) {}

  take(): number {
    this.sent += 1;
    if (this.next > 100 && Math.random() < this.duplicateShare) {
      this.duplicatesSent += 1;
      return this.next - 1 - Math.floor(Math.random() * Math.min(this.next, 2_000));
    }
    if (this.next >= this.messages * STATUSES.length) {
      if (!this.wrap) throw new Error('ran out of events: raise --messages');
      this.next = 0;
    }
    this.distinct.add(this.next);
    return this.next++;
  }
}

/** Events go by blocks of this many messages: all their sent, then all delivered, then all read. */
const BLOCK = 1_000;

function webhookBody(event: number, messages: number): string {
  const block = Math.floor(event / (3 * BLOCK));
  const within = event % (3 * BLOCK);
  const message = (block * BLOCK + (within % BLOCK)) % messages;
  const statusIndex = Math.floor(within / BLOCK);
  const status = STATUSES[statusIndex]!;
  const at = new Date(SEED_AT + 1_000 * (statusIndex + 1)).toISOString().replace('Z', '');
  const accepted = new Date(SEED_AT).toISOString().replace('Z', '');
  const capital = status[0]!.toUpperCase() + status.slice(1);
  return JSON.stringify({
    version: '1.0',
    timestamp: at,
    type: `message_api_${status}`,
    data: {
      customer: {
        id: `c0ffee00-0000-4000-8000-${String(message).padStart(12, '0')}`,
        channel_phone_number: `9198${String(10_000_000 + message)}`,
        phone_number: `98${String(10_000_000 + message)}`,
        country_code: '+91',
        traits: {},
      },
      message: {
        id: `bench-${message}`,
        chat_message_type: 'PublicApiMessage',
        channel_failure_reason: null,
        channel_error_code: null,
        message_status: capital,
        received_at_utc: accepted,
        delivered_at_utc: status === 'sent' ? null : at,
        seen_at_utc: status === 'read' ? at : null,
        campaign_id: null,
        is_template_message: true,
        message_content_type: 'Template',
        media_url: null,
        message: JSON.stringify([{ type: 'body', parameters: [{ type: 'text', text: 'Asha' }] }]),
        raw_template: JSON.stringify({
          name: 'drip_day_1',
          language: 'en',
          category: 'MARKETING',
          body: 'Hi {{1}}, here is day one of your plan.',
        }),
        meta_data: {
          source: 'PublicAPI',
          source_data: { callback_data: `bench:${message}`, source_type: 'PublicAPI' },
        },
      },
    },
  });
}

async function seedMessages(db: Db, messages: number): Promise<void> {
  const t = db.schema.whatsAppMessages;
  const at = new Date(SEED_AT);
  for (let start = 0; start < messages; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(messages, start + 500); i++) {
      rows.push({
        idempotencyKey: `bench:${i}`,
        leadId: null,
        direction: 'outgoing' as const,
        provider: 'interakt',
        providerMessageId: `bench-${i}`,
        phone: `+9198${String(10_000_000 + i)}`,
        templateName: 'drip_day_1',
        templateLanguage: 'en',
        messageContent: '{"body":["Asha"]}',
        callbackData: `bench:${i}`,
        status: 'sent' as const,
        attempts: 1,
        sentAt: at,
        createdAt: at,
        updatedAt: at,
      });
    }
    await db.orm.insert(t).values(rows);
  }
}

interface Segment {
  label: string;
  target: 'bare' | 'ours';
  kind: 'closed' | 'paced' | 'bad-signature';
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  total: number;
  non2xx: number;
  errors: number;
  cpu: Map<string, number>;
  seconds: number;
  /** Events stored but not yet applied when the segment ended (the processor's backlog). */
  pending: number;
}

async function waitForListening(children: Children, url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    children.assertHealthy();
    if (
      await fetch(url).then(
        () => true,
        () => false,
      )
    )
      return;
    if (Date.now() > deadline) throw new Error(`${url} not listening after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-bench-webhooks-'));
  const children = new Children(dir);
  const dbUrl = `file:${path.join(dir, 'crm.db')}`;
  try {
    process.stdout.write(`[bench] seeding ${options.messages} sent messages in ${dir}\n`);
    const db = await openDb(dbUrl);
    await migrate(db);
    await seedMessages(db, options.messages);

    const ports = { ours: await freePort(), bare: await freePort() };
    const profileArgs = args['profile-api']
      ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['profile-api'])}`]
      : [];
    startNodeChild(
      children,
      'ours',
      'bench/support/webhook-api.ts',
      { DATABASE_URL: dbUrl, INTERAKT_WEBHOOK_SECRET: SECRET, PORT: String(ports.ours) },
      profileArgs,
    );
    startNodeChild(children, 'bare', 'bench/support/bare-express.ts', { PORT: String(ports.bare) });
    const urls = { ours: `http://127.0.0.1:${ports.ours}`, bare: `http://127.0.0.1:${ports.bare}` };
    await waitForListening(children, urls.ours);
    await waitForListening(children, urls.bare);
    const pids = new Map([
      ['api', children.pid('ours')],
      ['bare', children.pid('bare')],
      ['bench', process.pid],
    ]);

    const source = new EventSource(options.messages, options.duplicates);
    const sources = {
      ours: source,
      bare: new EventSource(options.messages, options.duplicates, true),
      bad: new EventSource(options.messages, options.duplicates, true),
    };
    const signed = (body: string, secret: string) =>
      `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

    async function run(
      label: string,
      target: 'bare' | 'ours',
      kind: Segment['kind'],
      seconds: number,
      record = true,
    ): Promise<Segment | null> {
      children.assertHealthy();
      const cpuBefore = cpuSnapshot(pids);
      const result = await autocannon({
        url: urls[target],
        connections: options.connections,
        duration: seconds,
        ...(kind === 'paced' && { overallRate: options.rate }),
        requests: [
          {
            method: 'POST',
            path: '/webhooks/interakt',
            setupRequest: (request) => {
              const from = kind === 'bad-signature' ? sources.bad : sources[target];
              const body = webhookBody(from.take(), options.messages);
              const signature = signed(body, kind === 'bad-signature' ? 'not-the-secret' : SECRET);
              return {
                ...request,
                body,
                headers: { 'content-type': 'application/json', 'interakt-signature': signature },
              };
            },
          },
        ],
      });
      const cpu = cpuDelta(cpuBefore, cpuSnapshot(pids));
      if (!record) return null;
      const pending = target === 'ours' ? await pendingCount(db) : 0;
      const segment: Segment = {
        label,
        target,
        kind,
        seconds,
        rps: result.requests.total / result.duration,
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
        total: result.requests.total,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
        cpu,
        pending,
      };
      process.stdout.write(
        `[bench] ${label}: ${fixed(segment.rps, 0)} req/s, p50 ${segment.p50} ms, p99 ${segment.p99} ms, non-2xx ${segment.non2xx}, errors ${segment.errors}, pending ${segment.pending}\n`,
      );
      return segment;
    }

    const machineBefore = machineCpu();
    // Warm-up: JIT, SQLite page cache, connection set-up; not reported.
    await run('warm-up bare', 'bare', 'closed', 3, false);
    await run('warm-up ours', 'ours', 'closed', 3, false);
    const segments: Segment[] = [];
    // ABBA, so both see the same drift (database growth, machine noise).
    for (const [label, target] of [
      ['bare 1', 'bare'],
      ['ours 1', 'ours'],
      ['ours 2', 'ours'],
      ['bare 2', 'bare'],
    ] as const) {
      segments.push((await run(label, target, 'closed', options.duration))!);
    }
    segments.push((await run(`ours paced at ${options.rate}/s`, 'ours', 'paced', options.duration))!);
    // Requests the paced segment left queued are still being answered; let them finish first.
    await settle(db);
    const beforeBad = await eventCount(db);
    segments.push((await run('ours, wrong signature', 'ours', 'bad-signature', 5))!);
    const badWrites = (await eventCount(db)) - beforeBad;
    const machineAfter = machineCpu();

    // Every distinct valid event stored exactly once; duplicates absorbed. Requests cut off at
    // the end of a segment may not have been answered, so allow that many (one per connection).
    const stored = await settle(db);
    // Status events are applied off the request path: wait (bounded) for the processor to catch up.
    const drainStart = Date.now();
    let pendingLeft = await pendingCount(db);
    while (pendingLeft > 0 && Date.now() - drainStart < 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      pendingLeft = await pendingCount(db);
    }
    const drainMs = Date.now() - drainStart;
    const distinctValid = source.distinct.size;
    const [applied] = await db.orm
      .select({ n: count() })
      .from(db.schema.webhookEvents)
      .where(eq(db.schema.webhookEvents.outcome, 'applied'));
    const [read] = await db.orm
      .select({ n: count() })
      .from(db.schema.whatsAppMessages)
      .where(eq(db.schema.whatsAppMessages.status, 'read'));
    await db.close();

    const ours = segments.filter((s) => s.target === 'ours' && s.kind === 'closed');
    const bare = segments.filter((s) => s.target === 'bare');
    const mean = (list: Segment[], key: 'rps' | 'p50' | 'p99') =>
      list.reduce((sum, s) => sum + s[key], 0) / list.length;
    const paced = segments.find((s) => s.kind === 'paced')!;
    const bad = segments.find((s) => s.kind === 'bad-signature')!;
    const validNon2xx = segments
      .filter((s) => s.kind !== 'bad-signature')
      .reduce((sum, s) => sum + s.non2xx + s.errors, 0);
    const checks = [
      { name: 'no non-2xx or errors for valid requests', ok: validNon2xx === 0, detail: String(validNon2xx) },
      {
        name: 'every distinct event stored exactly once (duplicates absorbed)',
        ok: stored <= distinctValid && stored >= distinctValid - 2 * options.connections * 7,
        detail: `${stored} stored / ${distinctValid} distinct sent (${source.duplicatesSent} duplicates sent)`,
      },
      {
        name: 'every stored event applied by the processor (none left pending)',
        ok: pendingLeft === 0,
        detail: `${pendingLeft} pending after ${drainMs} ms`,
      },
      {
        name: 'wrong signature: all 401, nothing written',
        ok: bad.non2xx === bad.total && badWrites === 0,
        detail: `${bad.non2xx}/${bad.total} refused, ${badWrites} rows written`,
      },
    ];
    const goalMet = mean(ours, 'rps') >= GOAL_RPS && paced.p99 < GOAL_P99_MS;

    const cpuCell = (s: Segment) =>
      [...s.cpu].map(([name, secs]) => `${name} ${fixed(secs / s.seconds, 2)}`).join(', ');
    const report = [
      `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      '',
      `Command: \`npm run bench:webhooks -- --messages ${options.messages} --connections ${options.connections} --duration ${options.duration} --rate ${options.rate} --duplicates ${options.duplicates}\``,
      '',
      markdownTable(
        [
          'segment',
          'req/s',
          'p50 ms',
          'p90 ms',
          'p99 ms',
          'max ms',
          'requests',
          'non-2xx',
          'pending at end',
          'server CPU ms per request',
          'CPU cores busy (per process)',
        ],
        segments.map((s) => [
          s.label,
          fixed(s.rps, 0),
          fixed(s.p50, 0),
          fixed(s.p90, 0),
          fixed(s.p99, 0),
          fixed(s.max, 0),
          String(s.total),
          String(s.non2xx),
          String(s.pending),
          fixed((1000 * (s.cpu.get(s.target === 'bare' ? 'bare' : 'api') ?? Number.NaN)) / s.total, 2),
          cpuCell(s),
        ]),
      ),
      '',
      `- **ours (closed loop, ${options.connections} connections): ${fixed(mean(ours, 'rps'), 0)} req/s, p50 ${fixed(mean(ours, 'p50'), 0)} ms, p99 ${fixed(mean(ours, 'p99'), 0)} ms** — ` +
        `${fixed((100 * mean(ours, 'rps')) / mean(bare, 'rps'), 0)}% of bare Express (${fixed(mean(bare, 'rps'), 0)} req/s, p99 ${fixed(mean(bare, 'p99'), 0)} ms).`,
      `- **paced at ${options.rate}/s: ${fixed(paced.rps, 0)} req/s achieved, p50 ${fixed(paced.p50, 0)} ms, p99 ${fixed(paced.p99, 0)} ms.**`,
      `- Goal ≥ ${GOAL_RPS} req/s with p99 < ${GOAL_P99_MS} ms: **${goalMet ? 'met' : 'NOT met'}**.`,
      `- Ledger: ${stored} events stored, ${applied?.n ?? 0} applied a change; ${read?.n ?? 0} of ${options.messages} messages reached read.`,
      `- Machine CPU over the timed segments: ${fixed((100 * (machineAfter.busy - machineBefore.busy)) / Math.max(1e-9, machineAfter.busy - machineBefore.busy + machineAfter.idle - machineBefore.idle), 0)}% busy, ` +
        `stolen by host ${fixed(machineAfter.steal - machineBefore.steal, 1)} s.`,
      '',
      'Checks:',
      ...checks.map((c) => `- ${c.ok ? 'OK' : 'FAILED'}: ${c.name} (${c.detail})`),
      '',
    ].join('\n');
    process.stdout.write(`\n${report}\n`);
    if (args.record) {
      if (!fs.existsSync(RESULTS_FILE))
        fs.writeFileSync(
          RESULTS_FILE,
          '# Webhook ingestion bench results\n\nAppended by `npm run bench:webhooks -- --record`; see bench/README.md.\n\n',
        );
      fs.appendFileSync(RESULTS_FILE, `${report}\n`);
      process.stdout.write(`[bench] appended to ${path.relative(REPO_ROOT, RESULTS_FILE)}\n`);
    }
    if (checks.some((c) => !c.ok)) process.exitCode = 1;
  } finally {
    await children.stopAll();
    if (args.keep) process.stdout.write(`[bench] kept ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits until the ledger stops growing for a second; returns its size. */
async function settle(db: Db): Promise<number> {
  let last = -1;
  for (;;) {
    const now = await eventCount(db);
    if (now === last) return now;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

async function pendingCount(db: Db): Promise<number> {
  const [row] = await db.orm
    .select({ n: count() })
    .from(db.schema.webhookEvents)
    .where(eq(db.schema.webhookEvents.outcome, 'pending'));
  return row?.n ?? 0;
}

async function eventCount(db: Db): Promise<number> {
  const [row] = await db.orm.select({ n: count() }).from(db.schema.webhookEvents);
  return row?.n ?? 0;
}

main().catch((error: unknown) => {
  console.error('[bench] failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
