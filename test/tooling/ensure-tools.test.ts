import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, TEMPORAL_CLI_PATH, TEST_SERVER_PATH } from '../../temporal/paths.cjs';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'ensure-tools.mjs');

describe('scripts/ensure-tools.mjs', () => {
  it('is a silent no-op taking under a second once the tools are installed', () => {
    // The pretest step has already run it once, so this is the second run `npm start` sees.
    expect(fs.existsSync(TEMPORAL_CLI_PATH)).toBe(true);
    expect(fs.existsSync(TEST_SERVER_PATH)).toBe(true);

    const startedAt = Date.now();
    const result = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
    const elapsedMs = Date.now() - startedAt;

    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
    expect(elapsedMs).toBeLessThan(1_000);
  });

  it('installs the pinned Temporal CLI version', () => {
    const result = spawnSync(TEMPORAL_CLI_PATH, ['--version'], { encoding: 'utf8' });
    expect(result.stdout).toMatch(/^temporal version 1\.9\.1 /);
  });
});
