import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: REPO });

async function ruleHits(source: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(REPO, file) });
  return (result?.messages ?? []).map((message) => message.ruleId ?? message.message);
}

/** Server code logs through the pino logger (redacted at the logger); workflows through Temporal's `log`. */
describe('the logging rules', () => {
  it.each(['src/api/probe.ts', 'src/worker/probe.ts', 'src/drips/probe.ts'])(
    'refuses console.* in %s',
    async (file) => {
      expect(await ruleHits("console.log('lead', 12);\nconsole.error('failed');\n", file)).toEqual([
        'no-console',
        'no-console',
      ]);
    },
  );

  it.each(['src/emulators/probe.ts', 'src/cli/probe.ts', 'src/start.ts'])('lets %s print for people', async (file) => {
    expect(await ruleHits("console.log('listening');\n", file)).not.toContain('no-console');
  });

  it('keeps pino out of workflow code, which logs with the workflow SDK', async () => {
    expect(
      await ruleHits(
        "import { createLogger } from '../logging/logger';\nexport const refs = [createLogger];\n",
        'src/probe/workflow.ts',
      ),
    ).toEqual(['@typescript-eslint/no-restricted-imports']);
    expect(
      await ruleHits(
        "import { log } from '@temporalio/workflow';\nexport const refs = [log];\n",
        'src/probe/workflow.ts',
      ),
    ).toEqual([]);
  });
});
