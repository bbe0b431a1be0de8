/**
 * `npm run ivr:process` as a child process (`node --import tsx src/cli/process-ivr-calls.ts`),
 * configured only through the environment, against a temp SQLite file and the Temporal dev server.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordIvrCall } from '../../src/cta/ivr';
import { openDb, type Db } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';
import { findCtaRun, findIvrCallByCallId } from '../../src/db/queries';
import { ctaWorkflowId } from '../../src/cta/contract';
import { tempSqliteUrl } from '../support/db';
import { createIvrFlow, nextIvrLine, nextMobile } from '../support/ivr';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';

const REPO = path.resolve(__dirname, '../..');
const SCRIPT = path.join(REPO, 'src/cli/process-ivr-calls.ts');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('ivr:process CLI', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let database: ReturnType<typeof tempSqliteUrl>;
  const taskQueue = uniqueTaskQueue('ivr-cli');

  beforeAll(async () => {
    env = await createDevServerEnv();
    database = tempSqliteUrl();
    db = await openDb(database.url);
    await migrate(db);
  });

  afterAll(async () => {
    await env?.teardown();
    await db?.close();
    database?.cleanup();
  });

  function runCli(args: string[], envOverrides: Record<string, string> = {}): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', SCRIPT, ...args],
        {
          cwd: REPO,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            DATABASE_URL: database.url,
            TEMPORAL_ADDRESS: env.address,
            TEMPORAL_NAMESPACE: env.namespace ?? 'default',
            TEMPORAL_TASK_QUEUE: taskQueue,
            ...envOverrides,
          },
        },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  const record = (calledNumber: string) =>
    recordIvrCall(
      { db, defaultCountry: 'IN' },
      { callId: `cli-${nextMobile()}`, callerNumber: nextMobile(), calledNumber, calledAt: new Date() },
    );

  it('--help prints the usage and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: npm run ivr:process -- [--limit N] [--flow ID]');
  });

  it('refuses a bad --limit or an unknown option with the usage and exit code 2, touching nothing', async () => {
    const { call } = await record('+918000000000');
    for (const args of [['--limit', '1001'], ['--flow', 'x'], ['--verbose']]) {
      const result = await runCli(args);
      expect({ args, code: result.code, usage: result.stderr.includes('Usage:') }).toEqual({
        args,
        code: 2,
        usage: true,
      });
    }
    expect(await findIvrCallByCallId(db, call.callId)).toMatchObject({ status: 'received' });
  });

  it('processes received calls up to --limit, oldest first, prints each outcome and the totals, and exits 0', async () => {
    // The call of the test above (to a number without a flow) is the oldest.
    const line = nextIvrLine();
    const flow = await createIvrFlow(db, { ivrNumber: line.e164 });
    const { call } = await record(line.national);
    const { call: third } = await record(line.national);

    const result = await runCli(['--limit', '2']);

    expect(result).toMatchObject({ code: 0, stderr: '' });
    const run = await findCtaRun(db, { flowId: flow.id, leadId: call.leadId });
    expect(result.stdout).toContain(`call ${call.callId}: processed (run ${run!.id})`);
    expect(result.stdout).toContain('no_flow_for_number');
    expect(result.stdout).toContain('processed 1, skipped 1, failed 0, in progress 0');
    expect(result.stdout).not.toContain(third.callId);
    const started = await env.client.workflow.getHandle(ctaWorkflowId(call.leadId, flow.id)).describe();
    expect({ status: started.status.name, taskQueue: started.taskQueue }).toEqual({ status: 'RUNNING', taskQueue });

    const rest = await runCli(['--limit', '10']);
    expect(rest.code).toBe(0);
    expect(rest.stdout).toContain(`call ${third.callId}: processed`);
    expect((await runCli([])).stdout).toContain('no received IVR calls to process');
  });

  it('puts calls into the --flow given whatever number they called', async () => {
    const flow = await createIvrFlow(db, { ivrNumber: null });
    const { call } = await record('+918000000000');

    const result = await runCli(['--flow', String(flow.id)]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`call ${call.callId}: processed`);
    expect(await findIvrCallByCallId(db, call.callId)).toMatchObject({ status: 'processed' });
  });

  it('exits 1 and leaves the call received when its flow cannot be started', async () => {
    const line = nextIvrLine();
    await createIvrFlow(db, { ivrNumber: line.e164 });
    const { call } = await record(line.e164);

    // Temporal answers, but refuses every start in a namespace that does not exist.
    const result = await runCli([], { TEMPORAL_NAMESPACE: 'no-such-namespace' });

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`call ${call.callId}: failed`);
    expect(result.stdout).toContain('failed 1');
    expect(await findIvrCallByCallId(db, call.callId)).toMatchObject({ status: 'received' });
  });

  it('exits 1 with a message when the flow given does not exist', async () => {
    const result = await runCli(['--flow', '999999']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('CTA flow not found');
  });
});
