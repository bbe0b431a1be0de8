/**
 * `npm run bench:infobip-sync -- [--people 100000] [--page-size 1000] [--record] [--keep]`
 *
 * People per second from the Infobip emulator into a fresh SQLite file through the real sync:
 * the dev server, the real worker process (`src/worker/main.ts`), `infobipSyncWorkflow` paging the
 * People API with the real client at the documented 5 requests/s. Next to it, in the same run:
 *   read, unpaced   every page fetched with the client as fast as the emulator answers, no writes
 *   read, paced     the same at the documented 5 requests/s (what the sync's reads cost at best)
 *   bare insert     the same number of leads inserted into a fresh Clients table, 1,000 per
 *                   transaction, multi-row inserts, no matching (what its writes cost at best)
 *   sync (create)   the run into an empty Clients table: every valid person becomes a lead
 *   sync (again)    a second run over the same people: every lead is matched, nothing is newer
 * Goal: ≥ 1,000 people/s for the create run. See bench/README.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { count } from 'drizzle-orm';
import { openDb, withTransaction, type Db } from '../src/db/client';
import { migrate } from '../src/db/migrate';
import { getInfobipSyncRun, type InfobipSyncRunDetail } from '../src/db/queries';
import { chunk } from '../src/db/queries/common';
import { createInfobipEmulator, generatedPersonKind, type GeneratedPeopleSpec } from '../src/emulators/infobip';
import { createInfobipClient, type InfobipPeopleCursor } from '../src/providers/infobip';
import { startInfobipSync } from '../src/infobip-sync/start';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { describeMachine, machineLine } from './support/machine';
import { cpuDelta, cpuSnapshot } from './support/sampler';
import { fixed, markdownTable } from './support/stats';
import { Children, NAMESPACE, startDevServer, startNodeChild, waitForPoller } from './support/system';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'infobip-sync.md');
const TASK_QUEUE = 'dripline-bench-infobip';
const API_KEY = 'bench-infobip-key';
const GOAL_PEOPLE_PER_SECOND = 1_000;
const DAY_MS = 24 * 60 * 60 * 1000;

interface Row {
  path: string;
  records: number;
  seconds: number;
  note: string;
  cpu?: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      people: { type: 'string', default: '100000' },
      'page-size': { type: 'string', default: '1000' },
      record: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  });
  const people = Number(values.people);
  const pageSize = Number(values['page-size']);
  const spec: GeneratedPeopleSpec = { count: people, seed: 42 };
  const valid = Array.from({ length: people }, (_, i) => generatedPersonKind(i, spec)).filter(
    (kind) => kind === 'valid',
  ).length;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-bench-infobip-'));
  const children = new Children(dir);
  const rows: Row[] = [];
  let db: Db | undefined;
  let bareDb: Db | undefined;
  const emulator = createInfobipEmulator({ apiKey: API_KEY, people: spec });
  const listening = await emulator.listen(0, '127.0.0.1');
  const since = new Date(Date.now() - 8 * DAY_MS);
  const until = new Date();
  try {
    process.stdout.write(`[bench] ${people} people, ${pageSize} per page; set-up in ${dir}\n`);
    // The emulator filters and sorts 100k people once per distinct query and caches the result: warm it.
    const warm = createInfobipClient({ baseUrl: listening.url, getApiKey: () => API_KEY, timeoutMs: 60_000 });
    await warm.listPeople({ contactedSince: since, contactedUntil: until, limit: pageSize });

    emulator.state.configure({ rateLimits: { peoplePerSecond: null } });
    rows.push(await readAll('read, unpaced', listening.url, { since, until, pageSize, people: 1_000_000 }));
    emulator.state.configure({ rateLimits: { peoplePerSecond: 5 } });
    rows.push(await readAll('read, paced at 5 req/s', listening.url, { since, until, pageSize }));

    bareDb = await openDb(`file:${path.join(dir, 'bare.db')}`);
    await migrate(bareDb);
    rows.push(await bareInsert(bareDb, valid));

    const server = await startDevServer(children, dir);
    const dbUrl = `file:${path.join(dir, 'crm.db')}`;
    db = await openDb(dbUrl);
    await migrate(db);
    const worker = startNodeChild(children, 'worker', path.join(REPO_ROOT, 'src', 'worker.ts'), {
      DATABASE_URL: dbUrl,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      INTERAKT_BASE_URL: 'http://127.0.0.1:9',
      INFOBIP_BASE_URL: listening.url,
      INFOBIP_API_KEY: API_KEY,
      LOG_LEVEL: 'warn',
    });
    await waitForPoller(children, server.address, TASK_QUEUE);
    const connection = await Connection.connect({ address: server.address });
    try {
      const temporal = new Client({ connection, namespace: NAMESPACE });
      const pids = new Map([['worker', worker.pid!]]);
      for (const label of ['sync (create)', 'sync (again: all matched)'] as const) {
        const cpuBefore = cpuSnapshot(pids);
        const started = Date.now();
        const { run, workflowId } = await startInfobipSync(
          { db, temporal, taskQueue: TASK_QUEUE },
          {
            trigger: 'cli',
            options: {
              since: since.toISOString(),
              until: until.toISOString(),
              source: 'people',
              mode: 'create_update',
              dryRun: false,
              pageSize,
            },
          },
        );
        await temporal.workflow.getHandle(workflowId).result();
        const seconds = (Date.now() - started) / 1000;
        const cpu = cpuDelta(cpuBefore, cpuSnapshot(pids)).get('worker') ?? 0;
        const finished = (await getInfobipSyncRun(db, run.id)) as InfobipSyncRunDetail;
        children.assertHealthy();
        rows.push({
          path: label,
          records: finished.fetched,
          seconds,
          note: `created ${finished.created}, updated ${finished.updated}, skipped ${finished.skipped}, invalid ${finished.invalid}`,
          cpu: `${fixed(cpu, 1)} s worker CPU (${fixed((100 * cpu) / seconds, 0)}% of a core)`,
        });
      }
      const [leads] = await db.orm.select({ n: count() }).from(db.schema.clients);
      if (leads?.n !== valid) throw new Error(`expected ${valid} leads, found ${leads?.n}`);
    } finally {
      await connection.close();
    }

    const machine = await describeMachine();
    const rate = (row: Row) => row.records / row.seconds;
    const create = rows.find((row) => row.path === 'sync (create)')!;
    const paced = rows.find((row) => row.path.startsWith('read, paced'))!;
    const unpaced = rows.find((row) => row.path === 'read, unpaced')!;
    const report = [
      `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `Machine: ${machineLine(machine)}`,
      `Command: \`npm run bench:infobip-sync -- --people ${people} --page-size ${pageSize}\``,
      '',
      markdownTable(
        ['path', 'records', 'seconds', 'records/s', 'notes'],
        rows.map((row) => [
          row.path,
          String(row.records),
          fixed(row.seconds, 1),
          fixed(rate(row), 0),
          [row.note, row.cpu].filter(Boolean).join('; '),
        ]),
      ),
      '',
      `- **Goal ≥ ${GOAL_PEOPLE_PER_SECOND} people/s: ${rate(create) >= GOAL_PEOPLE_PER_SECOND ? 'met' : 'NOT met'}** (${fixed(rate(create), 0)} people/s into an empty Clients table).`,
      `- Pacing cost: reading alone takes ${fixed(paced.seconds, 1)} s at the documented 5 requests/s against ${fixed(unpaced.seconds, 1)} s unpaced; ` +
        `the sync reaches ${fixed((100 * rate(create)) / rate(paced), 0)}% of the paced read rate, so the rate limit, not our writes, bounds it.`,
      `- ${valid} of ${people} generated people have a usable phone; the rest are counted invalid with a per-record error.`,
      '',
    ].join('\n');
    process.stdout.write(`\n${report}\n`);
    if (values.record) {
      if (!fs.existsSync(RESULTS_FILE))
        fs.writeFileSync(
          RESULTS_FILE,
          '# Infobip sync bench results\n\nAppended by `npm run bench:infobip-sync -- --record`; see bench/README.md.\n\n',
        );
      fs.appendFileSync(RESULTS_FILE, `${report}\n`);
      process.stdout.write(`[bench] appended to ${path.relative(REPO_ROOT, RESULTS_FILE)}\n`);
    }
  } finally {
    await children.stopAll();
    await listening.close();
    await db?.close();
    await bareDb?.close();
    if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function readAll(
  label: string,
  baseUrl: string,
  query: { since: Date; until: Date; pageSize: number; people?: number },
): Promise<Row> {
  const client = createInfobipClient({
    baseUrl,
    getApiKey: () => API_KEY,
    timeoutMs: 60_000,
    ...(query.people !== undefined && { peopleRequestsPerSecond: query.people }),
  });
  const started = Date.now();
  let records = 0;
  let pages = 0;
  let after: InfobipPeopleCursor | null = null;
  do {
    const result = await client.listPeople({
      contactedSince: query.since,
      contactedUntil: query.until,
      limit: query.pageSize,
      after,
    });
    records += result.records.length;
    pages += 1;
    after = result.next;
  } while (after);
  return { path: label, records, seconds: (Date.now() - started) / 1000, note: `${pages} requests, nothing written` };
}

/** The write side alone: the same leads, multi-row inserts, one transaction per 1,000. */
async function bareInsert(db: Db, total: number): Promise<Row> {
  const started = Date.now();
  const now = new Date();
  for (let from = 0; from < total; from += 1_000) {
    const rows = Array.from({ length: Math.min(1_000, total - from) }, (_, i) => ({
      name: `Bench ${from + i}`,
      phone: `+9197${String(from + i).padStart(8, '0')}`,
      source: 'infobip',
      lastContactedAt: now,
      lastChannel: 'whatsapp',
      infobipProfileId: String(from + i),
      lastSyncedAt: now,
      createdAt: now,
      updatedAt: now,
    }));
    await withTransaction(db, async (tx) => {
      for (const part of chunk(rows, 100)) await tx.orm.insert(tx.schema.clients).values(part);
    });
  }
  return {
    path: 'bare insert',
    records: total,
    seconds: (Date.now() - started) / 1000,
    note: '1,000 leads per transaction, no matching',
  };
}

main().catch((error: unknown) => {
  console.error('[bench] failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
