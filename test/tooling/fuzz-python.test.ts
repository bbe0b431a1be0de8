/**
 * Which Python the fuzz test's schemathesis may run two worker threads on: only one whose AST
 * constructor is thread-safe (python/cpython#106905, fixed in 3.11.8 and 3.12.2).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasThreadSafeAst, venvPythonVersion } from '../../scripts/fuzz-python.cjs';

describe('the fuzz test’s Python', () => {
  it('counts a Python as thread-safe from 3.11.8 and 3.12.2 on, and every 3.13', () => {
    const safe = (version: string) => hasThreadSafeAst(version.split('.').map(Number));
    expect(['3.10.13', '3.11.2', '3.11.7', '3.12.0', '3.12.1'].map(safe)).toEqual([false, false, false, false, false]);
    expect(['3.11.8', '3.11.9', '3.12.2', '3.13.0', '3.14.1'].map(safe)).toEqual([true, true, true, true, true]);
  });

  it('reads the version a virtual environment was made with from its pyvenv.cfg', () => {
    const venv = mkdtempSync(path.join(tmpdir(), 'dripline-venv-'));
    try {
      expect(venvPythonVersion(venv)).toBeUndefined();
      writeFileSync(
        path.join(venv, 'pyvenv.cfg'),
        'home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.13.0\n',
      );
      expect(venvPythonVersion(venv)).toEqual([3, 13, 0]);
    } finally {
      rmSync(venv, { recursive: true, force: true });
    }
  });
});
