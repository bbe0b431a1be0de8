import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TypedSearchAttributes } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIP_SEQUENCE_ID, FLOW_KIND, LEAD_ID, SEARCH_ATTRIBUTES } from '../../src/shared';
import { SEARCH_ATTRIBUTES as DEV_SERVER_SEARCH_ATTRIBUTES } from '../../temporal/dev-server-settings.cjs';
import { bundleWorkflows, createDevServerEnv, createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { waitForReleaseWorkflow } from './fixtures/workflows';

const FIXTURE_WORKFLOWS = path.join(__dirname, 'fixtures', 'workflows.ts');
const THREE_DAYS_MS = 3 * 24 * 60 * 60 * 1000;

describe('search attribute registration', () => {
  it('registers on the dev server exactly the search attributes declared in src/shared.ts', () => {
    const declared = SEARCH_ATTRIBUTES.map((key) => ({
      name: key.name,
      type: TypedSearchAttributes.toMetadataType(key.type),
    }));
    expect([...DEV_SERVER_SEARCH_ATTRIBUTES].sort(byName)).toEqual(declared.sort(byName));
  });
});

describe('time-skipping test server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('skips time: a three-day condition timeout runs out, and the workflow sees three days pass', async () => {
    const taskQueue = uniqueTaskQueue('tooling-time-skip');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflows(FIXTURE_WORKFLOWS),
    });

    const result = await worker.runUntil(
      env.client.workflow.execute(waitForReleaseWorkflow, {
        args: [THREE_DAYS_MS],
        taskQueue,
        workflowId: uniqueTaskQueue('wait'),
      }),
    );

    expect(result.outcome).toBe('timed-out');
    expect(result.waitedMs).toBeGreaterThanOrEqual(THREE_DAYS_MS);
  });
});

describe('CLI dev server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createDevServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('accepts a start carrying LeadId, DripSequenceId and FlowKind and finds it by `LeadId = n`', async () => {
    const leadId = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    const handle = await env.client.workflow.start(waitForReleaseWorkflow, {
      args: [THREE_DAYS_MS],
      // No worker: visibility is written when the server accepts the start.
      taskQueue: uniqueTaskQueue('tooling-visibility'),
      workflowId: uniqueTaskQueue('visible'),
      typedSearchAttributes: [
        { key: LEAD_ID, value: leadId },
        { key: DRIP_SEQUENCE_ID, value: 42 },
        { key: FLOW_KIND, value: 'drip' },
      ],
    });

    try {
      const found = await pollUntil(async () => {
        for await (const execution of env.client.workflow.list({ query: `LeadId = ${leadId}` })) return execution;
        return undefined;
      }, 10_000);

      expect(found.workflowId).toBe(handle.workflowId);
      expect(found.typedSearchAttributes.get(LEAD_ID)).toBe(leadId);
      expect(found.typedSearchAttributes.get(DRIP_SEQUENCE_ID)).toBe(42);
      expect(found.typedSearchAttributes.get(FLOW_KIND)).toBe('drip');
    } finally {
      await handle.terminate('tooling test done');
    }
  });
});

describe('CLI dev server over a SQLite file', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-temporal-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps workflows and their search attributes across a restart over the same dbFilename', async () => {
    const dbFilename = path.join(dir, 'temporal.db');
    const leadId = 2_000_000 + Math.floor(Math.random() * 1_000_000);
    const workflowId = uniqueTaskQueue('persisted');

    const first = await createDevServerEnv({ dbFilename });
    try {
      await first.client.workflow.start(waitForReleaseWorkflow, {
        args: [THREE_DAYS_MS],
        taskQueue: uniqueTaskQueue('tooling-persisted'),
        workflowId,
        typedSearchAttributes: [{ key: LEAD_ID, value: leadId }],
      });
    } finally {
      await first.teardown();
    }

    const second = await createDevServerEnv({ dbFilename });
    try {
      const found = await pollUntil(async () => {
        for await (const execution of second.client.workflow.list({ query: `LeadId = ${leadId}` })) return execution;
        return undefined;
      }, 10_000);
      expect(found.workflowId).toBe(workflowId);
      expect(found.status.name).toBe('RUNNING');
      await second.client.workflow.getHandle(workflowId).terminate('tooling test done');
    } finally {
      await second.teardown();
    }
  });
});

function byName(a: { name: string }, b: { name: string }): number {
  return a.name.localeCompare(b.name);
}

/** Visibility is eventually consistent, so a just-started workflow may take a moment to show up. */
async function pollUntil<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Not found within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
