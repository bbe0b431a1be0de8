import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, TEMPORAL_CLI_PATH, TEST_SERVER_PATH } from '../../temporal/paths.cjs';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'ensure-tools.mjs');

describe('scripts/ensure-tools.mjs', () => {
  it('is a silent no-op once the tools are installed: nothing is downloaded or written again', () => {
    // The pretest step has already run it once, so this is the second run `npm start` sees.
    const installedAt = [TEMPORAL_CLI_PATH, TEST_SERVER_PATH].map((file) => fs.statSync(file).mtimeMs);

    const result = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });

    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
    expect([TEMPORAL_CLI_PATH, TEST_SERVER_PATH].map((file) => fs.statSync(file).mtimeMs)).toEqual(installedAt);
  });

  it('installs the pinned Temporal CLI version', () => {
    const result = spawnSync(TEMPORAL_CLI_PATH, ['--version'], { encoding: 'utf8' });
    expect(result.stdout).toMatch(/^temporal version 1\.9\.1 /);
  });
});
