/**
 * `npm run bench:analytics -- [--rows 1000000] [--leads 50000] [--iterations 40] [--record] [--keep]`
 *
 * The analytics queries (src/db/queries/analytics.ts) over a SQLite message log of `--rows` rows,
 * each timed `--iterations` times (after one untimed warm-up), next to a bare `SELECT count(*)`
 * on the same table in the same run:
 *   bare count            SELECT count(*) FROM WhatsAppMessages
 *   drip funnel           what GET /analytics/drips/:id/funnel reads, for the largest sequence
 *   KPIs (30 days)        what GET /analytics/kpis reads for the last 30 days: contacts and growth,
 *                         the outcomes of the period's sends, response times, running counts
 *   KPIs (400 days)       the same over the longest period the API takes (the whole log)
 *   conversation page     one page of 50 of a lead's conversation, first page and by cursor
 *   reference outcomes    the outcomes of one reference's sends (what a campaign report reads)
 * Goal: p99 ≤ 200 ms for each. EXPLAIN QUERY PLAN of every statement is checked for the index
 * it is meant to use (and the 400-day KPIs for no sort of the response times), and printed. The
 * log is built in SQL (recursive CTEs, one transaction), so set-up takes seconds, not minutes: see
 * bench/README.md for its shape. FirstReplyAt and ResponseMs are filled by migration 0051's own
 * backfill, and the per-day rollup is built by the same catch-up a KPI read runs
 * (refreshAnalyticsDays), before the plans and timings.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from '@libsql/client';
import { openDb } from '../src/db/client';
import { migrate, splitSqliteStatements } from '../src/db/migrate';
import { dripFunnel, kpis, referenceOutcomes } from '../src/analytics/reports';
import { listConversation, refreshAnalyticsDays } from '../src/db/queries';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { appendBenchResult, sqliteFileSize } from './support/bench-files';
import { describeMachine, machineLine } from './support/machine';
import { fixed, markdownTable, summarise, type LatencySummary } from './support/stats';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'analytics.md');
const GOAL_P99_MS = 200;
const DAY_MS = 86_400_000;
const SEQUENCES = 10;
const STEPS = 5;
/** The largest sequence's assignments; every other sequence has a tenth of it. */
const BIG_SEQUENCE_ASSIGNMENTS = 20_000;

interface Statement {
  sql: string;
  params: unknown[];
}

interface Measured {
  name: string;
  summary: LatencySummary;
  note: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      leads: { type: 'string', default: '50000' },
      iterations: { type: 'string', default: '40' },
      record: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  });
  const rows = Number(values.rows);
  const leads = Number(values.leads);
  const iterations = Number(values.iterations);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-bench-analytics-'));
  const file = path.join(dir, 'analytics.db');
  const url = `file:${file}`;
  const captured: Statement[] = [];
  let capturing = false;
  const db = await openDb(url, {
    logger: { logQuery: (query, params) => void (capturing && captured.push({ sql: query, params })) },
  });
  const raw = createClient({ url });
  try {
    process.stdout.write(`[bench] ${rows} messages, ${leads} leads; building in ${dir}\n`);
    await migrate(db);
    const now = Date.now();
    const built = Date.now();
    const shape = await buildLog(raw, { rows, leads, now });
    const buildSeconds = (Date.now() - built) / 1000;
    await raw.execute('ANALYZE');
    process.stdout.write(`[bench] built in ${fixed(buildSeconds)} s: ${JSON.stringify(shape)}\n`);
    // The rollup of the sends per day catches up with the log, as the first KPI read after
    // migration 0052 does on a log that existed before it.
    const rolled = Date.now();
    await refreshAnalyticsDays(db);
    const rollupSeconds = (Date.now() - rolled) / 1000;
    process.stdout.write(`[bench] rollup built in ${fixed(rollupSeconds)} s\n`);

    const last30 = { from: new Date(now - 30 * DAY_MS), to: new Date(now) };
    const last400 = { from: new Date(now - 400 * DAY_MS), to: new Date(now) };
    const busiestLead = await busiestLeadId(raw);
    const sampleAssignment = String(shape.firstAssignmentId);
    const kpisOf = (period: { from: Date; to: Date }) => () => kpis(db, { ...period, replyWindowHours: 24 });
    let middleCursor: { at: Date; id: number } | undefined;
    const paths: {
      name: string;
      note: string;
      run: () => Promise<unknown>;
      indexes: string[];
      /** Plan lines none of the path's statements may show. */
      forbidden?: string[];
    }[] = [
      {
        name: 'bare count',
        note: 'SELECT count(*) FROM WhatsAppMessages',
        run: () => raw.execute('SELECT count(*) FROM WhatsAppMessages'),
        indexes: [],
      },
      {
        name: 'drip funnel',
        note: `sequence 1: ${shape.bigSequenceSends} sends of ${Math.min(BIG_SEQUENCE_ASSIGNMENTS, leads)} assignments`,
        run: () => dripFunnel(db, { sequenceId: 1, replyWindowHours: 24 }),
        indexes: [
          'IX_LeadDripAssignment_Sequence_Outcome',
          'IX_WhatsAppMessages_Reference_Replies',
          'IX_WhatsAppMessages_Reference_Failed',
        ],
      },
      {
        name: 'KPIs (30 days)',
        note: 'contacts, sends of the period (whole days from the rollup), response times, running counts',
        run: kpisOf(last30),
        indexes: [
          'IX_Clients_CreatedAt',
          'IX_AnalyticsSendDays_Day_Counts',
          'IX_WhatsAppMessages_UpdatedAt_Id',
          'IX_WhatsAppMessages_Direction_CreatedAt_Replies',
          'UX_LeadDripAssignment_Active',
          'IX_CtaFlowRuns_Status',
        ],
      },
      {
        name: 'KPIs (400 days)',
        note: 'the same over the longest period allowed: the whole log',
        run: kpisOf(last400),
        indexes: [
          'IX_AnalyticsSendDays_Day_Counts',
          'IX_WhatsAppMessages_Direction_CreatedAt_Replies',
          'IX_WhatsAppMessages_Incoming_ResponseMs',
        ],
        // The response-time ranks of the whole log walk IX_WhatsAppMessages_Incoming_ResponseMs in order.
        forbidden: ['USE TEMP B-TREE FOR ORDER BY'],
      },
      {
        name: 'conversation page',
        note: `lead ${busiestLead.leadId} (${busiestLead.messages} messages): first page of 50, then a page by cursor`,
        run: async () => {
          const first = await listConversation(db, { leadId: busiestLead.leadId, order: 'asc', limit: 50 });
          middleCursor ??= first.at(-1) && { at: first.at(-1)!.createdAt, id: first.at(-1)!.id };
          await listConversation(db, {
            leadId: busiestLead.leadId,
            order: 'asc',
            limit: 50,
            ...(middleCursor && { after: middleCursor }),
          });
        },
        indexes: ['IX_WhatsAppMessages_Lead_CreatedAt'],
      },
      {
        name: 'reference outcomes',
        note: `drip assignment ${sampleAssignment}'s sends (a campaign report reads the same way)`,
        run: () =>
          referenceOutcomes(db, { referenceType: 'drip', referenceId: sampleAssignment, replyWindowHours: 24 }),
        indexes: ['IX_WhatsAppMessages_Reference_Replies', 'IX_WhatsAppMessages_Reference_Failed'],
      },
    ];

    // Plans first (one untimed run each, every statement captured), then the timings.
    const plans: string[] = [];
    const misses: string[] = [];
    for (const p of paths) {
      captured.length = 0;
      capturing = true;
      await p.run();
      capturing = false;
      const lines: string[] = [];
      for (const statement of captured) {
        const plan = await raw.execute({
          sql: `EXPLAIN QUERY PLAN ${statement.sql}`,
          args: statement.params as never,
        });
        lines.push(`  ${statement.sql.slice(0, 100)}${statement.sql.length > 100 ? '…' : ''}`);
        for (const row of plan.rows) lines.push(`    ${String(row.detail)}`);
      }
      const text = lines.join('\n');
      for (const index of p.indexes) if (!text.includes(index)) misses.push(`${p.name}: ${index}`);
      for (const step of p.forbidden ?? []) if (text.includes(step)) misses.push(`${p.name}: ${step} (unexpected)`);
      plans.push(`${p.name}:\n${text || '  (no statement through drizzle: raw count)'}`);
    }

    const loadBefore = os.loadavg()[0]!;
    const samples = new Map<string, number[]>(paths.map((p) => [p.name, []]));
    for (let round = 0; round < iterations; round++) {
      for (const p of paths) {
        const started = performance.now();
        await p.run();
        samples.get(p.name)!.push(performance.now() - started);
      }
    }
    const measured: Measured[] = paths.map((p) => ({
      name: p.name,
      note: p.note,
      summary: summarise(samples.get(p.name)!),
    }));

    const loadAfter = os.loadavg()[0]!;
    const machine = await describeMachine();
    const bare = measured[0]!.summary;
    const table = markdownTable(
      ['query', 'runs', 'p50 ms', 'p99 ms', 'max ms', 'p99 vs bare count', 'goal p99 ≤ 200 ms', 'what'],
      measured.map((m) => [
        m.name,
        String(m.summary.count),
        fixed(m.summary.p50),
        fixed(m.summary.p99),
        fixed(m.summary.max),
        m.name === 'bare count' ? '1.0×' : `${fixed(m.summary.p99 / bare.p99)}×`,
        m.name === 'bare count' ? '' : m.summary.p99 <= GOAL_P99_MS ? 'met' : '**not met**',
        m.note,
      ]),
    );
    const report = [
      `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `Machine: ${machineLine(machine)}`,
      `Command: \`npm run bench:analytics -- --rows ${rows} --leads ${leads} --iterations ${iterations}\``,
      '',
      `Log: ${rows} rows (${shape.incoming} incoming, ${shape.dripSends} drip sends, ${shape.otherSends} other sends) over 365 days, ${leads} leads, ${SEQUENCES} sequences of ${STEPS} steps with ${shape.assignments} assignments; built in ${fixed(buildSeconds)} s, its per-day rollup in ${fixed(rollupSeconds)} s; file ${fixed(sqliteFileSize(file) / 1024 / 1024, 0)} MiB. Each query run ${iterations} times after one warm-up, in rounds (every query once per round). Machine load (1-min average) ${fixed(loadBefore, 2)} before the timings, ${fixed(loadAfter, 2)} after, on ${os.cpus().length} cores.`,
      '',
      table,
      '',
      misses.length === 0
        ? '- EXPLAIN QUERY PLAN: every statement uses the index it is meant to (plans below).'
        : `- EXPLAIN QUERY PLAN: **expected index not used, or a step not expected**: ${misses.join('; ')}.`,
      '',
      '<details><summary>Query plans</summary>',
      '',
      '```',
      plans.join('\n'),
      '```',
      '',
      '</details>',
    ].join('\n');
    process.stdout.write(`\n${report}\n`);
    if (values.record) {
      appendBenchResult(RESULTS_FILE, 'Analytics bench results', 'bench:analytics', report);
      process.stdout.write(`[bench] appended to ${path.relative(REPO_ROOT, RESULTS_FILE)}\n`);
    }
    if (misses.length > 0) process.exitCode = 1;
  } finally {
    raw.close();
    await db.close();
    if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`[bench] kept ${dir}\n`);
  }
}

interface LogShape {
  assignments: number;
  firstAssignmentId: number;
  dripSends: number;
  bigSequenceSends: number;
  otherSends: number;
  incoming: number;
}

/**
 * The log, built in SQL in one transaction: leads created evenly over the year; ten sequences of
 * five steps (the first with 20,000 assignments, the others 2,000), each assignment reaching 1 to 5
 * steps a day apart; then other sends (welcome, CTA, manual) and incoming messages until `rows`.
 * Outcomes are spread by arithmetic on the row number: 5% pending, 10% failed (half after
 * acceptance, three error codes), 15% sent, 30% delivered, 40% read; one row in seven is incoming.
 */
async function buildLog(
  raw: ReturnType<typeof createClient>,
  { rows, leads, now }: { rows: number; leads: number; now: number },
): Promise<LogShape> {
  const t0 = now - 365 * DAY_MS;
  const span = 365 * DAY_MS;
  const transaction = await raw.transaction('write');
  try {
    const run = (sql: string, args: (number | string)[] = []) => transaction.execute({ sql, args });
    await run(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
       INSERT INTO Clients (Name, Phone, CustomFields, CreatedAt, UpdatedAt)
       SELECT 'Bench lead ' || i, '+9190' || printf('%08d', i), '{}', CAST(? + i * (? / ?) AS INTEGER), CAST(? + i * (? / ?) AS INTEGER) FROM n`,
      [leads, t0, span, leads, t0, span, leads],
    );
    for (let s = 1; s <= SEQUENCES; s++) {
      await run(`INSERT INTO DripSequence (Name, CreatedAt, UpdatedAt) VALUES (?, ?, ?)`, [`Sequence ${s}`, t0, t0]);
      for (let k = 0; k < STEPS; k++)
        await run(
          `INSERT INTO DripSequenceSteps (SequenceId, StepOrder, TemplateName, TemplateLanguage, DelaySeconds, Variables)
           VALUES (?, ?, ?, 'en', 86400, '{}')`,
          [s, k, `drip_day_${k + 1}`],
        );
    }
    // Assignments: distinct leads within a sequence (j × 7 mod leads is a permutation), started
    // over the year; 60% completed, 20% cancelled (replied or opted out), 5% failed, 15% active.
    for (let s = 1; s <= SEQUENCES; s++) {
      // At most one assignment per lead and sequence, so the live ones never collide on the unique index.
      const big = Math.min(BIG_SEQUENCE_ASSIGNMENTS, leads);
      const count = s === 1 ? big : Math.floor(big / 10);
      await run(
        `WITH RECURSIVE n(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM n WHERE j + 1 < ?)
         INSERT INTO LeadDripAssignment (LeadId, SequenceId, SequenceVersion, StepsSnapshot, Status, NextStep, TotalSteps,
           StopReason, WorkflowId, StartedAt, UpdatedAt)
         SELECT (j * 7 + ?) % ? + 1, ?, 1, '[]',
           CASE WHEN j % 20 < 12 THEN 'completed' WHEN j % 20 < 16 THEN 'cancelled' WHEN j % 20 < 17 THEN 'failed' ELSE 'active' END,
           0, ${STEPS},
           CASE WHEN j % 20 < 12 THEN NULL WHEN j % 20 < 14 THEN 'replied' WHEN j % 20 < 16 THEN 'opted_out' ELSE NULL END,
           NULL, CAST(? + j * (? / ?) AS INTEGER), CAST(? + j * (? / ?) AS INTEGER) FROM n`,
        [count, s, leads, s, t0, span - STEPS * DAY_MS, count, t0, span - STEPS * DAY_MS, count],
      );
    }
    await run(`UPDATE LeadDripAssignment SET WorkflowId = 'drip-' || Id`);
    const outcome = (rowNumber: string, created: string) => `
      CASE WHEN ${rowNumber} * 37 % 100 < 5 THEN 'pending' WHEN ${rowNumber} * 37 % 100 < 15 THEN 'failed'
           WHEN ${rowNumber} * 37 % 100 < 30 THEN 'sent' WHEN ${rowNumber} * 37 % 100 < 60 THEN 'delivered' ELSE 'read' END,
      CASE WHEN ${rowNumber} * 37 % 100 < 5 OR ${rowNumber} * 37 % 100 BETWEEN 5 AND 9 THEN NULL ELSE ${created} + 2000 END,
      CASE WHEN ${rowNumber} * 37 % 100 >= 30 THEN ${created} + 60000 END,
      CASE WHEN ${rowNumber} * 37 % 100 >= 60 THEN ${created} + 3600000 END,
      CASE WHEN ${rowNumber} * 37 % 100 BETWEEN 5 AND 14 THEN ${created} + 5000 END,
      CASE WHEN ${rowNumber} * 37 % 100 BETWEEN 5 AND 14 THEN (CASE ${rowNumber} % 3 WHEN 0 THEN '1013' WHEN 1 THEN '131026' ELSE '131049' END) END,
      CASE WHEN ${rowNumber} * 37 % 100 BETWEEN 5 AND 14 THEN 'refused by the provider' END`;
    const columns = `IdempotencyKey, LeadId, Direction, Provider, ProviderMessageId, Phone, TemplateName, TemplateLanguage,
      MessageContent, ReferenceType, ReferenceId, WorkflowId, StepIndex, CallbackData, Status, SentAt, DeliveredAt, ReadAt,
      FailedAt, ErrorCode, ErrorMessage, Attempts, CreatedAt, UpdatedAt`;
    // Drip sends: assignment a reaches 1 + (a × 31 mod 5) steps, a day apart from its start.
    await run(
      `WITH RECURSIVE k(step) AS (SELECT 0 UNION ALL SELECT step + 1 FROM k WHERE step + 1 < ${STEPS}),
       s AS (SELECT a.Id AS aid, a.LeadId AS lead, a.StartedAt + k.step * ${DAY_MS} AS created, k.step AS step
             FROM LeadDripAssignment a JOIN k ON k.step < 1 + (a.Id * 31) % ${STEPS})
       INSERT INTO WhatsAppMessages (${columns})
       SELECT 'drip-' || aid || ':' || step, lead, 'outgoing', 'interakt', 'p-drip-' || aid || ':' || step,
         '+9190' || printf('%08d', lead - 1), 'drip_day_' || (step + 1), 'en', '{"bodyValues":["Bench lead"]}',
         'drip', CAST(aid AS TEXT), 'drip-' || aid, step, 'drip-' || aid || ':' || step,
         ${outcome('(aid * 5 + step)', 'created')}, 1, created, created FROM s`,
    );
    const drip = await run(`SELECT count(*) AS n FROM WhatsAppMessages`);
    const dripSends = Number(drip.rows[0]!.n);
    const rest = Math.max(0, rows - dripSends);
    // Everything else: one row in seven incoming (a lead's message), the others welcome, CTA or manual sends.
    const others = (incoming: boolean, select: string) =>
      run(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?),
         r AS (SELECT i, (i * 7919) % ? + 1 AS lead, CAST(? + i * (? / ?) AS INTEGER) AS created FROM n WHERE (i % 7 = 0) = ?)
         INSERT INTO WhatsAppMessages (${columns}) ${select} FROM r`,
        [rest, leads, t0, span, rest, incoming ? 1 : 0],
      );
    await others(
      true,
      `SELECT 'interakt:in:' || i, lead, 'incoming', 'interakt', 'p-in-' || i, '+9190' || printf('%08d', lead - 1),
         NULL, NULL, '{"text":"Tell me more about the project","contentType":"Text"}', NULL, NULL, NULL, NULL, NULL,
         'delivered', NULL, created, NULL, NULL, NULL, NULL, 0, created, created`,
    );
    await others(
      false,
      `SELECT 'other-' || i, lead, 'outgoing', 'interakt', 'p-other-' || i, '+9190' || printf('%08d', lead - 1),
         'follow_up', 'en', '{"bodyValues":["Bench lead"]}',
         CASE i % 3 WHEN 0 THEN 'welcome' WHEN 1 THEN 'cta' ELSE 'manual' END, CAST(i % 5000 AS TEXT), NULL, NULL,
         'other-' || i, ${outcome('i', 'created')}, 1, created, created`,
    );
    // FirstReplyAt and ResponseMs as the writes of messages.ts would have left them: the backfill
    // statements of migration 0051 compute exactly those values from the finished log.
    const backfill = splitSqliteStatements(
      fs.readFileSync(path.join(REPO_ROOT, 'src/db/migrations/sqlite/0051_reply_times.sql'), 'utf8'),
    ).filter((statement) => statement.startsWith('UPDATE'));
    for (const statement of backfill) await run(statement);
    await transaction.commit();
  } finally {
    transaction.close();
  }
  const stat = async (sql: string) => Number((await raw.execute(sql)).rows[0]!.n);
  return {
    assignments: await stat('SELECT count(*) AS n FROM LeadDripAssignment'),
    firstAssignmentId: await stat('SELECT min(Id) AS n FROM LeadDripAssignment'),
    dripSends: await stat(`SELECT count(*) AS n FROM WhatsAppMessages WHERE ReferenceType = 'drip'`),
    bigSequenceSends: await stat(
      `SELECT count(*) AS n FROM WhatsAppMessages m JOIN LeadDripAssignment a ON m.ReferenceId = CAST(a.Id AS TEXT) AND m.ReferenceType = 'drip' WHERE a.SequenceId = 1`,
    ),
    otherSends: await stat(
      `SELECT count(*) AS n FROM WhatsAppMessages WHERE Direction = 'outgoing' AND (ReferenceType IS NULL OR ReferenceType <> 'drip')`,
    ),
    incoming: await stat(`SELECT count(*) AS n FROM WhatsAppMessages WHERE Direction = 'incoming'`),
  };
}

async function busiestLeadId(raw: ReturnType<typeof createClient>): Promise<{ leadId: number; messages: number }> {
  const result = await raw.execute(
    `SELECT LeadId AS leadId, count(*) AS n FROM WhatsAppMessages WHERE LeadId BETWEEN 1 AND 200 GROUP BY LeadId ORDER BY n DESC LIMIT 1`,
  );
  return { leadId: Number(result.rows[0]!.leadId), messages: Number(result.rows[0]!.n) };
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
