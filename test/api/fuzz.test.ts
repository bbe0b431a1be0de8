import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasThreadSafeAst, venvPythonVersion } from '../../scripts/fuzz-python.cjs';
import { SCHEMATHESIS_PATH } from '../../temporal/paths.cjs';
import { startFuzzTarget, type FuzzTarget } from '../support/fuzz-target';
import { LEVEL } from '../support/logs';

/**
 * What schemathesis checks on every generated request: the API never answers 5xx; it answers
 * only statuses the document lists, with the documented content type and body (so every 4xx is
 * in the documented error shape); and a method a path does not take is a 405.
 */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'unsupported_method',
];

/** Cases per operation per phase: enough to reach every field's edges, bounded for CI. */
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 8);
/** Fixed, so a failure in CI replays exactly; set FUZZ_SEED to explore other inputs. */
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);
/**
 * schemathesis runs its workers as threads: 2 where its Python's AST constructor is thread-safe
 * (scripts/ensure-tools.mjs prefers such a Python), else 1 (see scripts/fuzz-python.cjs).
 */
const PYTHON_VERSION = venvPythonVersion(path.dirname(path.dirname(SCHEMATHESIS_PATH)));
const WORKERS = PYTHON_VERSION && hasThreadSafeAst(PYTHON_VERSION) ? 2 : 1;
/** The run is bounded by the cases above; this only stops a hang. */
const FUZZ_TIMEOUT_MS = 15 * 60_000;

interface Run {
  code: number | null;
  output: string;
}

/** Runs in its own temporary folder: schemathesis keeps its example database in the working directory. */
function runSchemathesis(target: FuzzTarget, workDir: string): Promise<Run> {
  const args = [
    'run',
    `${target.url}/openapi.json`,
    '--header',
    `Authorization: Bearer ${target.apiKey}`,
    '--checks',
    CHECKS.join(','),
    '--phases',
    'examples,coverage,fuzzing',
    '--max-examples',
    String(MAX_EXAMPLES),
    '--seed',
    String(SEED),
    '--workers',
    String(WORKERS),
    '--no-color',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(SCHEMATHESIS_PATH, args, { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('the API under schemathesis, from its own OpenAPI document', () => {
  let target: FuzzTarget;
  let workDir: string;

  beforeAll(async () => {
    target = await startFuzzTarget();
    workDir = mkdtempSync(path.join(tmpdir(), 'dripline-fuzz-'));
  });

  afterAll(async () => {
    await target?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it(
    'answers every generated request of every operation without a 5xx, in the documented shapes',
    async () => {
      const run = await runSchemathesis(target, workDir);
      const tested = /Tested: (\d+)/.exec(run.output)?.[1];
      const generated = /(\d+) generated/.exec(run.output)?.[1];
      // The record the README quotes: operations and cases of this run.
      console.log(
        `[fuzz] schemathesis tested ${tested} operations with ${generated} cases (seed ${SEED}, ${WORKERS} workers on Python ${PYTHON_VERSION?.join('.') ?? 'unknown'})`,
      );
      expect(run.code, run.output.slice(-6_000)).toBe(0);
      expect(Number(tested)).toBeGreaterThanOrEqual(58);
      // No unexpected error reached the server log either (a 500 is logged before it is answered).
      expect(target.logged().filter((line) => line.level >= LEVEL.error)).toEqual([]);
    },
    FUZZ_TIMEOUT_MS,
  );
});
