/**
 * Records the workflow histories that test/workflows/replay.test.ts replays on every change to
 * workflow code (see test/histories/README.md). Each scenario runs a real drip on the
 * time-skipping test server, with the worker, SQLite database and Interakt emulator wired as in
 * the drip tests, checks that it ended the way the scenario says, and saves its history.
 *
 *   npm run histories:record                       # first recording: test/histories/drip-<scenario>.json
 *   npm run histories:record -- --label <label>    # after a versioned change: drip-<scenario>.<label>.json
 *
 * It never overwrites a saved history: old histories are what prove that running workflows still
 * replay on the new code, so a new recording goes alongside them under a label.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Db } from '../src/db/client';
import { updateLead } from '../src/db/queries';
import { cancelDripSignal, pauseDripSignal, resumeDripSignal, type DripProgress } from '../src/shared';
import type { dripWorkflow } from '../src/workflows/drip';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createTestDb } from '../test/support/db';
import { DAY, nextPhone, startDrip, startDripHarness, step, waitFor, type DripHarness } from '../test/support/drip-harness';
import { createTimeSkippingEnv } from '../test/support/temporal';

const HISTORIES_DIR = path.join(REPO_ROOT, 'test', 'histories');
const LABEL_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

interface ScenarioContext {
  env: TestWorkflowEnvironment;
  db: Db;
  harness: DripHarness;
}

interface Scenario {
  name: string;
  /** Drives one drip to its end and returns its handle. */
  run(context: ScenarioContext): Promise<WorkflowHandle<typeof dripWorkflow>>;
  /** The end the scenario exists to capture; a history that ended otherwise is not saved. */
  expected: Partial<DripProgress>;
}

const sentTo = (harness: DripHarness, phone: string) => harness.accepted().filter((message) => message.phone === phone);

/** One scenario per path through dripWorkflow: each leaves a differently shaped history. */
const SCENARIOS: Scenario[] = [
  {
    name: 'three-steps',
    expected: { status: 'completed', nextStep: 3 },
    async run({ env, db, harness }) {
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', 2 * DAY), step('drip_day_3', 3 * DAY)]);
      return drip.handle;
    },
  },
  {
    name: 'pause-resume',
    expected: { status: 'completed', nextStep: 2 },
    async run({ env, db, harness }) {
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY)]);
      await waitFor(() => sentTo(harness, drip.lead.phone).length === 1, 'the first step');
      await drip.handle.signal(pauseDripSignal);
      await waitFor(async () => (await drip.assignment())?.status === 'paused', 'paused status');
      await env.sleep('3 days');
      await drip.handle.signal(resumeDripSignal);
      return drip.handle;
    },
  },
  {
    name: 'cancel-after-first-step',
    expected: { status: 'cancelled', stopReason: 'admin', nextStep: 1 },
    async run({ env, db, harness }) {
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY), step('drip_day_3', DAY)]);
      await waitFor(() => sentTo(harness, drip.lead.phone).length === 1, 'the first step');
      await drip.handle.signal(cancelDripSignal, { reason: 'admin' });
      return drip.handle;
    },
  },
  {
    name: 'permanent-error',
    expected: { status: 'failed', nextStep: 0 },
    async run({ env, db, harness }) {
      const phone = nextPhone();
      harness.emulator.emulator.state.injectFault({
        kind: 'permanent',
        message: 'Please correct the following error - Recipient is not a valid WhatsApp user',
        match: { phone },
      });
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY)], { phone });
      return drip.handle;
    },
  },
  {
    name: '5xx-then-success',
    expected: { status: 'completed', nextStep: 1 },
    async run({ env, db, harness }) {
      const phone = nextPhone();
      harness.emulator.emulator.state.injectFault({ kind: 'http_5xx', status: 503, times: 2, match: { phone } });
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0)], { phone });
      return drip.handle;
    },
  },
  {
    name: 'opt-out',
    expected: { status: 'cancelled', stopReason: 'opted_out', nextStep: 1 },
    async run({ env, db, harness }) {
      const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0), step('drip_day_2', DAY)]);
      await waitFor(() => sentTo(harness, drip.lead.phone).length === 1, 'the first step');
      await updateLead(db, drip.lead.id, { optedOut: true });
      return drip.handle;
    },
  },
];

function historyPath(scenario: string, label: string | undefined): string {
  return path.join(HISTORIES_DIR, label ? `drip-${scenario}.${label}.json` : `drip-${scenario}.json`);
}

function parseOptions(): { label: string | undefined } {
  const { values } = parseArgs({ options: { label: { type: 'string' } } });
  const label = values.label;
  if (label !== undefined && !LABEL_PATTERN.test(label)) {
    throw new Error(`--label must be kebab-case (e.g. skip-weekends-patch), got "${label}"`);
  }
  const taken = SCENARIOS.map((scenario) => historyPath(scenario.name, label)).filter((file) => existsSync(file));
  if (taken.length > 0) {
    const list = taken.map((file) => `  ${path.relative(REPO_ROOT, file)}`).join('\n');
    throw new Error(
      `Saved histories are never replaced (test/histories/README.md). These already exist:\n${list}\n` +
        'Record alongside them instead: npm run histories:record -- --label <what-changed>',
    );
  }
  return { label };
}

async function main(): Promise<void> {
  const { label } = parseOptions();
  // Several scenarios fail activities on purpose; the worker's warnings about them are noise here.
  process.env.TEMPORAL_TEST_LOG_LEVEL ??= 'ERROR';
  const env = await createTimeSkippingEnv();
  const db = await createTestDb();
  let harness: DripHarness | undefined;
  try {
    harness = await startDripHarness({ db, connection: env.nativeConnection, namespace: env.namespace ?? 'default' });
    const recorded: { file: string; text: string; summary: string }[] = [];
    // One at a time, so no scenario's time skipping or faults reach into another's history.
    for (const scenario of SCENARIOS) {
      const handle = await scenario.run({ env, db, harness });
      const result = await handle.result();
      for (const [key, value] of Object.entries(scenario.expected)) {
        if (result[key as keyof DripProgress] !== value) {
          throw new Error(`Scenario ${scenario.name} ended as ${JSON.stringify(result)}, expected ${JSON.stringify(scenario.expected)}`);
        }
      }
      const history = await handle.fetchHistory();
      recorded.push({
        file: historyPath(scenario.name, label),
        text: `${historyToJSON(history)}\n`,
        summary: `${history.events?.length ?? 0} events, ${result.status}`,
      });
    }
    // Written only once every scenario succeeded, so a failed run leaves no partial set behind.
    mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const { file, text, summary } of recorded) {
      writeFileSync(file, text);
      console.log(`wrote ${path.relative(REPO_ROOT, file)} (${summary})`);
    }
  } finally {
    await harness?.stop();
    await env.teardown();
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
