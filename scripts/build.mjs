#!/usr/bin/env node
/**
 * `npm run build`: the production build, run with dev dependencies installed (the Dockerfile's
 * build stage). Writes into dist/ (or `--out-dir <dir>`):
 *
 *   dist/**\/*.js              src/ compiled by tsc (tsconfig.build.json): `node dist/api/server.js`,
 *                             `node dist/worker/main.js`, `node dist/cli/migrate.js`, without tsx
 *   dist/db/migrations/       the .sql files src/db/migrate.ts reads beside itself at run time
 *   dist/workflow-bundle.js   the workflow code pre-bundled, which the worker loads instead of
 *                             bundling at every start (src/worker/workers.ts)
 *   dist/console/             the admin console (web/, built by scripts/console.ts), which the built
 *                             API serves at /console (src/api/console-static.ts looks beside itself)
 *
 * The out dir is emptied first, so nothing of an older build (a deleted module, a dropped
 * migration) survives into the new one.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { REPO_ROOT } from '../temporal/paths.cjs';

const require = createRequire(import.meta.url);

/** The bundle's file name; src/worker/workers.ts looks for it one level above itself. */
const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';
/** The console's folder; src/api/console-static.ts looks for it one level above itself. */
const CONSOLE_DIR = 'console';

async function main() {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } } });
  const outDir = path.resolve(REPO_ROOT, values['out-dir']);
  assertSafeToEmpty(outDir);
  fs.rmSync(outDir, { recursive: true, force: true });

  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', outDir],
    { stdio: 'inherit' },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed (exit ${tsc.status ?? tsc.signal})`);

  fs.cpSync(path.join(REPO_ROOT, 'src', 'db', 'migrations'), path.join(outDir, 'db', 'migrations'), {
    recursive: true,
  });

  // From the TypeScript entry, exactly as the tests and the replay check bundle it.
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(REPO_ROOT, 'src', 'workflows.ts'),
    logger: new DefaultLogger('WARN'),
  });
  fs.writeFileSync(path.join(outDir, WORKFLOW_BUNDLE_FILE), code);

  // The console's types come from the app's OpenAPI document, so it is built from this same source.
  const consoleBuild = spawnSync(
    process.execPath,
    [require.resolve('tsx/cli'), path.join(REPO_ROOT, 'scripts', 'console.ts'), 'build'],
    { stdio: 'inherit', cwd: REPO_ROOT },
  );
  if (consoleBuild.status !== 0) {
    throw new Error(`console build failed (exit ${consoleBuild.status ?? consoleBuild.signal})`);
  }
  fs.cpSync(path.join(REPO_ROOT, 'web', 'dist'), path.join(outDir, CONSOLE_DIR), { recursive: true });

  process.stdout.write(`built ${path.relative(process.cwd(), outDir) || '.'}\n`);
}

/** The out dir is deleted first: inside the repository only dist/ may be, and never an ancestor of it. */
function assertSafeToEmpty(outDir) {
  const fromRepo = path.relative(REPO_ROOT, outDir);
  const insideRepo = !fromRepo.startsWith('..') && !path.isAbsolute(fromRepo);
  const holdsRepo = !path.relative(outDir, REPO_ROOT).startsWith('..');
  if (holdsRepo || (insideRepo && fromRepo.split(path.sep)[0] !== 'dist')) {
    throw new Error(`refusing to empty ${outDir}: inside the repository the out dir is dist/`);
  }
}

main().catch((error) => {
  console.error('[build] failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
