import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: REPO });

async function wallViolations(source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(REPO, 'src/workflows/probe.ts') });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((message) => message.message);
}

/** Workflow code runs in Temporal's deterministic sandbox; the lint config is what keeps I/O out. */
describe('the import wall around src/workflows', () => {
  it('refuses runtime imports of the database, providers, Node modules and activities', async () => {
    const violations = await wallViolations(
      [
        "import { openDb } from '../db/client';",
        "import { createInteraktProvider } from '../providers/interakt';",
        "import fs from 'node:fs';",
        "import { createActivities } from '../activities';",
        'export const refs = [openDb, createInteraktProvider, fs, createActivities];',
      ].join('\n'),
    );
    expect(violations).toHaveLength(4);
  });

  it('allows @temporalio/workflow, the shared contract, sibling workflows and type-only activity imports', async () => {
    const violations = await wallViolations(
      [
        "import { sleep } from '@temporalio/workflow';",
        "import { dripWorkflowId } from '../shared';",
        "import { dripWorkflow } from './drip';",
        "import type { Activities } from '../activities';",
        'export const refs: unknown[] = [sleep, dripWorkflowId, dripWorkflow, {} as Activities];',
      ].join('\n'),
    );
    expect(violations).toEqual([]);
  });
});
