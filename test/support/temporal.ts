/**
 * Temporal servers for tests, both run from the tools that `npm test`'s pretest step installs into
 * .tools/ (scripts/ensure-tools.mjs), so no test downloads anything:
 *
 * - `createTimeSkippingEnv()`: the Java test server. Timers fire as soon as nothing else can
 *   happen, so a multi-day drip runs in seconds. No visibility queries, no task-queue rate limits.
 * - `createDevServerEnv()`: the CLI dev server, the same binary and settings as `npm start`. Real
 *   time, but visibility (search attributes) and server-side rate limits behave as in production.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  type LogLevel,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { SEARCH_ATTRIBUTES } from '../../src/shared';
import { REPO_ROOT, TEMPORAL_CLI_PATH, TEST_SERVER_PATH } from '../../temporal/paths.cjs';
import { dynamicConfigArgs, sqlitePragmaArgs } from '../../temporal/dev-server-settings.cjs';

export const WORKFLOWS_PATH = path.join(REPO_ROOT, 'src', 'workflows.ts');

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requireTool(TEST_SERVER_PATH) } },
  });
  // Our search attributes, so code that starts workflows with them (as the API does) runs here too.
  // The test server cannot list them, only add: it starts empty, so add them all.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: searchAttributeTypes(SEARCH_ATTRIBUTES),
  });
  return env;
}

export interface DevServerEnvOptions {
  /** Persist to this SQLite file (e.g. to restart a server over the same state); in-memory by default. */
  dbFilename?: string;
}

export async function createDevServerEnv(opts: DevServerEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: requireTool(TEMPORAL_CLI_PATH) },
      searchAttributes: [...SEARCH_ATTRIBUTES],
      ui: false,
      // The dev server warns about its own bootstrap (e.g. generating a cluster id) on every start.
      log: { format: 'pretty', level: 'error' },
      dbFilename: opts.dbFilename,
      extraArgs: [...dynamicConfigArgs(), ...(opts.dbFilename ? sqlitePragmaArgs() : [])],
    },
  });
  try {
    await registerMissingSearchAttributes(env.connection, env.namespace ?? 'default');
  } catch (error) {
    await env.teardown();
    throw error;
  }
  return env;
}

/** A fresh task queue per test, so workers of one test never pick up another's tasks. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/**
 * Bundling takes seconds, so each test process does it once per workflows file. Defaults to the
 * production workflows (src/workflows.ts), exactly what src/worker/main.ts runs.
 */
export function bundleWorkflows(workflowsPath: string = WORKFLOWS_PATH): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
    // A failed bundle (e.g. a syntax error being fixed) must not stick for the rest of the run.
    bundle.catch(() => bundles.delete(workflowsPath));
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

const LOG_LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/**
 * Worker lifecycle lines at INFO drown test output; WARN keeps real trouble visible. Set
 * TEMPORAL_TEST_LOG_LEVEL=DEBUG to see everything. A no-op if a runtime already exists in this
 * process (a test that installed its own, or a worker created earlier).
 */
export function installTestRuntime(): void {
  const wanted = process.env.TEMPORAL_TEST_LOG_LEVEL?.toUpperCase();
  const level = LOG_LEVELS.find((candidate) => candidate === wanted) ?? 'WARN';
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed or instantiated: keep whatever is there.
  }
}

/**
 * `--search-attribute` is applied only when a SQLite file is created, so a reused `dbFilename`
 * from before an attribute was added would lack it; in-memory servers already have them all.
 */
async function registerMissingSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((key) => !(key.name in customAttributes));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: searchAttributeTypes(missing) });
}

function searchAttributeTypes(keys: readonly (typeof SEARCH_ATTRIBUTES)[number][]): Record<string, number> {
  const types: Record<string, number> = {};
  for (const key of keys) {
    const type = encodeSearchAttributeIndexedValueType(key.type);
    if (type === undefined) throw new Error(`Search attribute ${key.name} has an unknown type ${key.type}`);
    types[key.name] = type;
  }
  return types;
}

function requireTool(file: string): string {
  if (!fs.existsSync(file)) {
    throw new Error(
      `${path.relative(REPO_ROOT, file)} is missing: run \`npm run setup\` (it needs python3+pip, java and mvn).`,
    );
  }
  return file;
}
