import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: REPO });

async function wallViolations(source: string, file = 'src/probe/workflow.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(REPO, file) });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((message) => message.message);
}

/** Workflow code runs in Temporal's deterministic sandbox; the lint config is what keeps I/O out. */
describe('the import wall around workflow code (src/*/workflow.ts, src/*/contract.ts, src/workflows.ts)', () => {
  it.each(['src/probe/workflow.ts', 'src/probe/contract.ts', 'src/workflows.ts'])(
    'refuses runtime imports of the database, providers, Node modules, activities and feature services in %s',
    async (file) => {
      const violations = await wallViolations(
        [
          "import { openDb } from '../db/client';",
          "import { createInteraktProvider } from '../providers/interakt';",
          "import fs from 'node:fs';",
          "import { createDripActivities } from './activities';",
          "import { stopDrips } from '../drips/stop';",
          'export const refs = [openDb, createInteraktProvider, fs, createDripActivities, stopDrips];',
        ].join('\n'),
        file,
      );
      expect(violations).toHaveLength(5);
    },
  );

  it('allows the workflow SDK, the shared contract, feature contracts and type-only imports of activities', async () => {
    const violations = await wallViolations(
      [
        "import { sleep } from '@temporalio/workflow';",
        "import { defineSearchAttributeKey } from '@temporalio/common';",
        "import { LEAD_ID } from '../shared';",
        "import { dripProgressQuery } from './contract';",
        "import { SEND_OPTIONS } from '../messages/contract';",
        "import type { DripActivities } from './activities';",
        'export const refs: unknown[] = [sleep, defineSearchAttributeKey, LEAD_ID, dripProgressQuery, SEND_OPTIONS, {} as DripActivities];',
      ].join('\n'),
    );
    expect(violations).toEqual([]);
  });

  it("lets the bundle entry re-export each feature's workflow", async () => {
    expect(await wallViolations("export { dripWorkflow } from './drips/workflow';", 'src/workflows.ts')).toEqual([]);
  });

  it('does not wall in other files of a feature', async () => {
    expect(
      await wallViolations(
        "import { openDb } from '../db/client';\nexport const refs = [openDb];",
        'src/probe/activities.ts',
      ),
    ).toEqual([]);
  });
});
