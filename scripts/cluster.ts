/**
 * `npm run cluster -- [--workers 3] [--apis 2] [--sends-per-second 4.5] [--no-ui] [--keep]`
 *
 * Dripline at production shape on this machine, from nothing, with one command: PostgreSQL in a
 * temporary directory, the Temporal server built from source (frontend, history, matching and
 * worker services; NUM_HISTORY_SHARDS shards; 4 task-queue partitions, 1 per send queue; our
 * search attributes), its Web UI when it can be built, then the Interakt emulator, N workers and
 * M API processes on one CRM database behind a round-robin balancer. Runs until Ctrl-C, then
 * stops everything it started (also when start-up fails). See temporal/README.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster } from '../temporal/cluster/cluster';
import { startDripline } from '../temporal/cluster/dripline';
import { Supervisor } from '../temporal/cluster/supervisor';
import { ensureClusterTools } from '../temporal/cluster/tools';

const log = (line: string) => process.stdout.write(`[cluster] ${line}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '3' },
      apis: { type: 'string', default: '2' },
      'sends-per-second': { type: 'string', default: '4.5' },
      'task-queue': { type: 'string', default: 'dripline' },
      'no-ui': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const count = (name: string, raw: string | undefined): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 16) throw new Error(`--${name} must be 1..16, got "${raw}"`);
    return value;
  };
  const workers = count('workers', values.workers);
  const apis = count('apis', values.apis);
  const sendsPerSecond = Number(values['sends-per-second']);
  if (!(sendsPerSecond > 0)) throw new Error('--sends-per-second must be positive');

  const tools = ensureClusterTools(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-cluster-'));
  const supervisor = new Supervisor(dir, log);
  let failed = false;
  supervisor.addCleanup(() => {
    if (values.keep || failed) log(`kept ${dir} (logs, PostgreSQL data, crm.db)`);
    else fs.rmSync(dir, { recursive: true, force: true });
  });
  try {
    log(`state and logs in ${dir}`);
    const cluster = await startCluster(supervisor, tools, { ui: !values['no-ui'], log });
    const dripline = await startDripline(supervisor, cluster, {
      workers,
      apis,
      taskQueue: values['task-queue']!,
      sendsPerSecond,
      databaseFile: path.join(dir, 'crm.db'),
      log,
    });
    log('ready:');
    log(`  API (balancer)  ${dripline.balancer.url}   replicas: ${dripline.apiUrls.join(', ')}`);
    log(`  Temporal        ${cluster.address}${cluster.uiUrl ? `   UI ${cluster.uiUrl}` : ''}`);
    log(`  emulator        ${dripline.emulatorUrl}/__emulator/messages`);
    log(`  CRM database    ${dripline.databaseUrl}`);
    log(`  create an API key: DATABASE_URL=${dripline.databaseUrl} npm run apikey:create -- --name ops`);
    log('Ctrl-C stops everything.');
    // Until a signal (handled by the supervisor) or a child dying on its own.
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      supervisor.assertHealthy();
    }
  } catch (error) {
    failed = true;
    log(`failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await supervisor.stopAll();
  }
  process.exit(failed ? 1 : 0);
}

void main();
