import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';
import { getInfobipSyncRun } from '../../src/db/queries';
import {
  createInfobipEmulator,
  generatedPersonKind,
  type GeneratedPeopleSpec,
  type InfobipEmulator,
} from '../../src/emulators/infobip';
import type { ListeningEmulator } from '../../src/emulators/emulator-http';
import { startInfobipSync } from '../../src/infobip-sync/start';
import { waitFor } from '../support/drip-harness';
import { generatedPeoplePageOf } from '../support/infobip-emulator';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';

/**
 * Two real worker processes each bundle the workflow code at start: about 35 s alone on two cores,
 * and more when the machine is shared. A bound on a hang, not a timing claim.
 */
const CRASH_TEST_TIMEOUT_MS = 240_000;

const KEY = 'infobip-crash-key';
const PEOPLE = { count: 300, seed: 11, duplicateEvery: 0, anchor: new Date() } satisfies GeneratedPeopleSpec;
const PAGE_SIZE = 5;
const PAGES = PEOPLE.count / PAGE_SIZE;
const VALID = Array.from({ length: PEOPLE.count }, (_, i) => generatedPersonKind(i, PEOPLE)).filter(
  (kind) => kind === 'valid',
).length;
/** Killed once this many pages are recorded: well into the run, well before its end. */
const KILL_AFTER_PAGES = 15;

/**
 * The real worker process (`src/worker/main.ts`) is SIGKILLed in the middle of a sync run (one activity
 * call reading every page, heartbeating its cursor), and a new worker process finishes it. The run
 * resumes from the last heartbeat the server received, not from page 1, and the pages read again
 * are not counted again.
 */
describe('Infobip sync: worker crash and restart', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let emulator: InfobipEmulator;
  let listening: ListeningEmulator;
  let dbUrl: string;
  const taskQueue = uniqueTaskQueue('infobip-crash');
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    env = await createDevServerEnv();
    dbUrl = `file:${path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-infobip-crash-')), 'crm.db')}`;
    db = await openDb(dbUrl);
    await migrate(db);
    // The emulator enforces the documented 5 People requests/s, which the client paces to: 60 pages take ~12 s.
    emulator = createInfobipEmulator({ apiKey: KEY, people: PEOPLE });
    listening = await emulator.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await listening?.close();
    await env?.teardown();
    await db?.close();
  });

  function startWorker(): WorkerProcess {
    const worker = spawnWorker({
      DATABASE_URL: dbUrl,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      INTERAKT_BASE_URL: 'http://127.0.0.1:9',
      INFOBIP_BASE_URL: listening.url,
      INFOBIP_API_KEY: KEY,
    });
    children.push(worker.child);
    return worker;
  }

  const pagesRecorded = async (runId: number) => {
    const p = db.schema.infobipSyncPages;
    const [row] = await db.orm.select({ n: count() }).from(p).where(eq(p.runId, runId));
    return row?.n ?? 0;
  };
  const pageRequests = () =>
    emulator.state
      .requests()
      .filter((entry) => entry.endpoint === 'people' && entry.responseStatus === 200)
      // The client pages by createdAt; this counts its requests as page numbers would.
      .map((entry) => generatedPeoplePageOf(entry.path, { anchor: PEOPLE.anchor, pageSize: PAGE_SIZE }));

  it(
    'resumes from the heartbeated cursor after the worker is killed mid-run and counts every record once',
    async () => {
      const first = startWorker();
      await first.ready;
      const { run, workflowId } = await startInfobipSync(
        { db, temporal: env.client, taskQueue },
        {
          trigger: 'cli',
          options: {
            since: new Date(Date.now() - 8 * 24 * 3600_000).toISOString(),
            source: 'people',
            mode: 'create_update',
            dryRun: false,
            pageSize: PAGE_SIZE,
          },
          pagesPerChunk: PAGES,
        },
      );

      await waitFor(
        async () => (await pagesRecorded(run.id)) >= KILL_AFTER_PAGES,
        `${KILL_AFTER_PAGES} pages recorded`,
        60_000,
      );
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      const requestsBeforeCrash = pageRequests();
      const pagesBeforeCrash = await pagesRecorded(run.id);
      expect(pagesBeforeCrash).toBeLessThan(PAGES);

      const second = startWorker();
      await second.ready;
      await env.client.workflow.getHandle(workflowId).result();

      const finished = await getInfobipSyncRun(db, run.id);
      expect(finished).toMatchObject({
        status: 'completed',
        fetched: PEOPLE.count,
        created: VALID,
        matched: 0,
        updated: 0,
        skipped: 0,
        invalid: PEOPLE.count - VALID,
      });
      const [leads] = await db.orm.select({ n: count() }).from(db.schema.clients);
      expect(leads?.n).toBe(VALID);

      const requestsAfterCrash = pageRequests().slice(requestsBeforeCrash.length);
      // Resumed where the last heartbeat the server received said, never from page 1 ...
      expect(Math.min(...requestsAfterCrash)).toBeGreaterThan(1);
      expect(pageRequests().filter((page) => page === 1)).toHaveLength(1);
      // ... and at or before the first page the dead worker had not recorded.
      expect(Math.min(...requestsAfterCrash)).toBeLessThanOrEqual(pagesBeforeCrash + 1);
      // Every page was read; the last full page is followed by one empty page, the client's only way to know it was the last.
      expect(new Set(pageRequests())).toEqual(new Set(Array.from({ length: PAGES + 1 }, (_, i) => i + 1)));
    },
    CRASH_TEST_TIMEOUT_MS,
  );
});
