/**
 * `npm run ivr:process -- --limit 10 [--flow 3]`: turns the oldest received IVR calls into CTA
 * flows (the seed's `process_ivr_whatsapp --limit`), prints what happened to each, and exits
 * non-zero when any call failed to start (those stay received for the next run).
 */
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { processIvrCalls, type ProcessIvrCallsResult } from '../cta/ivr';
import { openDb } from '../db/client';
import { sendTaskQueue } from '../shared';
import { errorMessage } from '../logging/redact';

const USAGE = `Usage: npm run ivr:process -- [--limit N] [--flow ID]

Starts the CTA flow of each received IVR call, oldest first, one at a time.

  --limit N   how many calls to take, 1 to 1000 (default 10)
  --flow ID   put every call into this CTA flow instead of the flow of the number called
  --help      show this help

Reads DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE and
MESSAGING_PROVIDER like the API and the worker. Exits 1 when any call failed to start.
`;

class UsageError extends Error {}

function parseOptions(argv: string[]): { help: true } | { help: false; limit: number; flowId?: number } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { limit: { type: 'string' }, flow: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  const { values } = parsed;
  if (values.help) return { help: true };
  const limit = integerOption('--limit', values.limit ?? '10', 1, 1000);
  const flowId =
    values.flow === undefined ? undefined : integerOption('--flow', values.flow, 1, Number.MAX_SAFE_INTEGER);
  return { help: false, limit, ...(flowId !== undefined && { flowId }) };
}

function integerOption(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max)
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

function summary(result: ProcessIvrCallsResult): string {
  const lines = result.results.map((r) => {
    const details = [r.runId !== undefined ? `run ${r.runId}` : undefined, r.reason].filter(Boolean).join(', ');
    return `  call ${r.callId}: ${r.outcome}${details ? ` (${details})` : ''}`;
  });
  const totals = `processed ${result.processed}, skipped ${result.skipped}, failed ${result.failed}, in progress ${result.inProgress}`;
  return [...lines, result.results.length === 0 ? 'no received IVR calls to process' : totals].join('\n') + '\n';
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfig();
  const db = await openDb(config.DATABASE_URL);
  try {
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    try {
      const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
      const result = await processIvrCalls(
        {
          db,
          temporal,
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          sendTaskQueue: sendTaskQueue(config.TEMPORAL_TASK_QUEUE, config.MESSAGING_PROVIDER),
        },
        { limit: options.limit, ...(options.flowId !== undefined && { flowId: options.flowId }) },
      );
      process.stdout.write(summary(result));
      return result.failed > 0 ? 1 : 0;
    } finally {
      await connection.close();
    }
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(errorMessage(error));
    process.exit(1);
  },
);
