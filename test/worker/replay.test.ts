/**
 * Every drip that is running in production was started by an older build of the workflow code,
 * and a worker on the new build resumes it by replaying its history. If the new code would issue
 * different commands for that history (an extra timer or activity, a reordered step), the run is
 * stuck on a non-determinism error. This test replays saved histories on the current code so such
 * a change fails here instead of in production.
 *
 * When a change to the workflow is intended, version it with `patched()` / `deprecatePatch()` so
 * old runs keep their old path, then record new histories alongside the old ones
 * (`npm run histories:record -- --label <what-changed>`). Never replace or delete an old history:
 * it stands for runs that may still be in flight. See test/histories/README.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflows, installTestRuntime } from '../support/temporal';

const HISTORIES_DIR = path.join(__dirname, '..', 'histories');

/**
 * What scripts/record-histories.ts first recorded, per workflow: without them the replay would
 * prove nothing, and a workflow whose histories went missing would pass unguarded.
 */
const FIRST_RECORDINGS = [
  'drip-three-steps.json',
  'drip-pause-resume.json',
  'drip-cancel-after-first-step.json',
  'drip-permanent-error.json',
  'drip-5xx-then-success.json',
  'drip-opt-out.json',
  'welcome-document-header.json',
  'welcome-opted-out.json',
  'template-sync-api-pages.json',
  'template-sync-scheduled.json',
  'template-sync-401-midway.json',
  'cta-interested.json',
  'cta-late-click.json',
  'cta-no-response.json',
  'cta-not-interested.json',
  'infobip-sync-401-midway.json',
  'infobip-sync-429-then-ok.json',
  'infobip-sync-already-closed.json',
  'infobip-sync-cancelled.json',
  'infobip-sync-dry-run.json',
  'infobip-sync-people-pages.json',
  'infobip-sync-scheduled.json',
  'campaign-explicit-list.json',
  'campaign-opted-out-and-permanent-failure.json',
  'campaign-pause-resume.json',
  'campaign-cancel-mid-send.json',
  'campaign-transient-failure.json',
  'campaign-retry-failed.json',
  'campaign-scheduled.json',
  'campaign-cancelled-while-scheduled.json',
  'interakt-track-user-after-429.json',
  'interakt-track-campaign-event.json',
  'template-submission-approved-by-webhook.json',
  'template-submission-rejected-found-by-timer.json',
  'keyword-reply-opt-out-sent.json',
];

function listHistoryFiles(): string[] {
  return readdirSync(HISTORIES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort();
}

function loadHistory(file: string) {
  try {
    return historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
  } catch (error) {
    throw new Error(`test/histories/${file} is not a readable history: ${(error as Error).message}`, { cause: error });
  }
}

describe('saved workflow histories', () => {
  let workflowBundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    installTestRuntime();
    workflowBundle = await bundleWorkflows();
  });

  it('include every scenario first recorded for each workflow, so the replay below cannot pass on nothing', () => {
    expect(listHistoryFiles()).toEqual(expect.arrayContaining(FIRST_RECORDINGS));
  });

  it('all replay on the current workflow bundle without non-determinism', async () => {
    const files = listHistoryFiles();
    expect(files.length).toBeGreaterThanOrEqual(FIRST_RECORDINGS.length);
    // The file name stands in as the workflow ID so each result names the history it came from.
    const histories = files.map((file) => ({ workflowId: file, history: loadHistory(file) }));

    const replayed: string[] = [];
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
      replayed.push(result.workflowId);
      if (result.error)
        failures.push(`test/histories/${result.workflowId}: ${result.error.name}: ${result.error.message}`);
    }

    expect(failures).toEqual([]);
    expect(replayed).toEqual(files);
  });
});
