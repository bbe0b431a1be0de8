/**
 * `npm run sync:infobip -- [--since <iso>] [--until <iso>] [--source people|logs|both]
 *   [--mode create_update|update_only] [--dry-run] [--channels whatsapp,sms]
 *   [--set-status Contacted [--only-if-status New,Open]] [--page-size 1000] [--run-key <key>]`
 *
 * Starts one Infobip sync run (the same options and validation as `POST /sync/infobip/runs`),
 * shows its progress while the worker runs it, and prints its counts. Exits non-zero when the run
 * fails. A worker must be running on the same task queue.
 */
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { issuesFrom } from '../api/errors';
import { InfobipSyncRunBody } from '../infobip-sync/schemas';
import { loadConfig } from '../config';
import { openDb } from '../db/client';
import { getInfobipSyncRun } from '../db/queries';
import { infobipSyncProgressQuery } from '../infobip-sync/contract';
import { startInfobipSync } from '../infobip-sync/start';
import { errorMessage } from '../logging/redact';

const PROGRESS_EVERY_MS = 2_000;
const LISTED_ERRORS = 20;

/** Field names as the flags spell them, for messages. */
const flagOf = (path: string): string =>
  path
    .replace(/^pageSize/, 'page-size')
    .replace(/^dryRun/, 'dry-run')
    .replace(/^runKey/, 'run-key')
    .replace(/^statusRule\.onlyIfStatusIn/, 'only-if-status')
    .replace(/^statusRule(\.setStatus)?/, 'set-status');

function readOptions(argv: string[]): InfobipSyncRunBody {
  const { values } = parseArgs({
    args: argv,
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      source: { type: 'string' },
      mode: { type: 'string' },
      'dry-run': { type: 'boolean' },
      channels: { type: 'string' },
      'set-status': { type: 'string' },
      'only-if-status': { type: 'string' },
      'page-size': { type: 'string' },
      'run-key': { type: 'string' },
    },
    strict: true,
  });
  const list = (value: string | undefined) =>
    value
      ?.split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const onlyIf = list(values['only-if-status']);
  const raw = {
    since: values.since,
    until: values.until,
    source: values.source,
    mode: values.mode,
    dryRun: values['dry-run'] ?? false,
    channels: list(values.channels),
    statusRule:
      values['set-status'] === undefined
        ? undefined
        : { setStatus: values['set-status'], ...(onlyIf && { onlyIfStatusIn: onlyIf }) },
    pageSize: values['page-size'] === undefined ? undefined : Number(values['page-size']),
    runKey: values['run-key'],
  };
  const parsed = InfobipSyncRunBody.safeParse(
    Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined)),
  );
  if (!parsed.success) {
    const lines = issuesFrom('body', parsed.error).map((issue) => `  --${flagOf(issue.path)}: ${issue.message}`);
    throw new Error(`invalid options:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

async function main(): Promise<void> {
  const { runKey, ...options } = readOptions(process.argv.slice(2));
  const config = loadConfig();
  const db = await openDb(config.DATABASE_URL);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const { run, workflowId, alreadyStarted } = await startInfobipSync(
      { db, temporal, taskQueue: config.TEMPORAL_TASK_QUEUE },
      {
        trigger: 'cli',
        options: {
          safetyMarginMs: config.INFOBIP_SYNC_SAFETY_MARGIN_MS,
          initialLookbackMs: config.INFOBIP_SYNC_INITIAL_LOOKBACK_MS,
          ...options,
        },
        ...(runKey !== undefined && { runKey }),
      },
    );
    process.stderr.write(
      `${alreadyStarted ? 'already started' : 'started'} run ${run.id} (${workflowId}): ${run.windowFrom.toISOString()} .. ${run.windowTo.toISOString()}${options.dryRun ? ', dry run' : ''}\n`,
    );
    for (const warning of (run.options.warnings as string[] | undefined) ?? [])
      process.stderr.write(`warning: ${warning}\n`);

    const handle = temporal.workflow.getHandle(workflowId);
    const ticker = setInterval(() => {
      handle
        .query(infobipSyncProgressQuery)
        .then((progress) =>
          process.stderr.write(
            `  ${progress.status}: ${progress.pagesDone} pages, ${progress.counts.fetched} records\n`,
          ),
        )
        .catch(() => {});
    }, PROGRESS_EVERY_MS);
    let failed = false;
    try {
      await handle.result();
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      failed = true;
    } finally {
      clearInterval(ticker);
    }

    const finished = await getInfobipSyncRun(db, run.id);
    if (!finished) throw new Error(`run ${run.id} disappeared`);
    const { status, fetched, matched, created, updated, skipped, invalid, errorCount, failure } = finished;
    process.stdout.write(
      `${JSON.stringify({ runId: run.id, status, fetched, matched, created, updated, skipped, invalid, errorCount, ...(failure && { failure }) }, null, 2)}\n`,
    );
    for (const error of finished.errors.slice(0, LISTED_ERRORS))
      process.stderr.write(`  ${error.record}: ${error.message}\n`);
    if (finished.errors.length > LISTED_ERRORS)
      process.stderr.write(`  … ${errorCount - LISTED_ERRORS} more (GET /sync/infobip/runs/${run.id})\n`);
    if (failed || status !== 'completed') process.exitCode = 1;
  } finally {
    await connection.close();
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(errorMessage(error));
  process.exit(1);
});
