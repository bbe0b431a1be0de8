import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolLeads } from '../../src/drips/enrol';
import { openDb, type Db } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';
import { createLead, createSequence, getAssignment } from '../../src/db/queries';
import { sendTaskQueue } from '../../src/shared';
import { EMULATOR_KEY, nextPhone, step, waitFor } from '../support/drip-harness';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../support/emulator';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { seedTemplates } from '../support/templates';
import { spawnWorker, workerEnv, type WorkerProcess } from '../support/worker-process';

/**
 * Two real worker processes each bundle the workflow code at start: about 35 s alone on two cores,
 * and more when the machine is shared. A bound on a hang, not a timing claim.
 */
const CRASH_TEST_TIMEOUT_MS = 240_000;

const LEADS = 4;
const STEP_DELAY_SECONDS = 8;

/**
 * The real worker process (`src/worker/main.ts`) is killed with SIGKILL while drips sleep between
 * steps, the next step falls due while no worker runs, and a new worker process picks up. The
 * emulator counts what the provider accepted: every step exactly once.
 */
describe('worker crash and restart', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let emulator: StartedInteraktEmulator;
  let dbUrl: string;
  const taskQueue = uniqueTaskQueue('crash');
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    env = await createDevServerEnv();
    // The worker process opens the same file: this test needs SQLite (or a shared SQL Server).
    dbUrl = process.env.DATABASE_URL?.startsWith('mssql')
      ? process.env.DATABASE_URL
      : `file:${path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-crash-')), 'crm.db')}`;
    db = await openDb(dbUrl);
    await migrate(db);
    await seedTemplates(db);
    emulator = await startInteraktEmulator({ apiKey: EMULATOR_KEY, autoWebhooks: false });
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await emulator?.close();
    await env?.teardown();
    await db?.close();
  });

  function startWorker(): WorkerProcess {
    const worker = spawnWorker({
      ...workerEnv({ dbUrl, temporal: env, taskQueue, interakt: { baseUrl: emulator.baseUrl, apiKey: EMULATOR_KEY } }),
      INTERAKT_SENDS_PER_SECOND: '100',
      SEND_RECONCILE_WINDOW_MS: '3000',
    });
    children.push(worker.child);
    return worker;
  }

  it(
    'sends every remaining step exactly once after the worker is killed mid-sequence and restarted',
    async () => {
      const sequence = await createSequence(db, {
        name: 'crash test',
        steps: [step('drip_day_1', 0), step('drip_day_2', STEP_DELAY_SECONDS), step('drip_day_3', STEP_DELAY_SECONDS)],
      });
      const leads = [];
      for (let i = 0; i < LEADS; i++) leads.push(await createLead(db, { name: `Lead ${i}`, phone: nextPhone() }));

      const first = startWorker();
      await first.ready;
      const { started } = await enrolLeads(
        { db, temporal: env.client, taskQueue, sendTaskQueue: sendTaskQueue(taskQueue, 'interakt') },
        sequence,
        leads.map((lead) => lead.id),
      );
      expect(started).toHaveLength(LEADS);

      // Kill once every drip has sent step 1 and recorded it, i.e. while all of them sleep.
      await waitFor(
        async () => {
          const rows = await Promise.all(started.map((s) => getAssignment(db, s.assignmentId)));
          return rows.every((row) => row?.nextStep === 1);
        },
        'every drip asleep after step 1',
        60_000,
      );
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      const acceptedBeforeRestart = emulator.emulator.state.acceptedMessages().length;

      // Let step 2 fall due with no worker running.
      await new Promise((resolve) => setTimeout(resolve, (STEP_DELAY_SECONDS + 1) * 1000));
      expect(emulator.emulator.state.acceptedMessages()).toHaveLength(acceptedBeforeRestart);

      const second = startWorker();
      await second.ready;
      await waitFor(
        async () => {
          const rows = await Promise.all(started.map((s) => getAssignment(db, s.assignmentId)));
          return rows.every((row) => row?.status === 'completed');
        },
        'every drip completed after restart',
        120_000,
      );

      const accepted = emulator.emulator.state.acceptedMessages();
      expect(acceptedBeforeRestart).toBe(LEADS);
      expect(accepted).toHaveLength(LEADS * 3);
      const keys = accepted.map((message) => message.callbackData);
      expect(new Set(keys).size).toBe(keys.length);
      for (const { workflowId } of started) {
        expect(keys.filter((key) => key?.startsWith(`${workflowId}:`)).sort()).toEqual(
          [0, 1, 2].map((i) => `${workflowId}:${i}`),
        );
      }
    },
    CRASH_TEST_TIMEOUT_MS,
  );
});
