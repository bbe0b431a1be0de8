/**
 * Which Python schemathesis may run its workers as threads on (scripts/ensure-tools.mjs installs
 * it, test/api/fuzz.test.ts runs it). Before 3.11.8 and 3.12.2, CPython's AST constructor kept its
 * recursion depth in state shared by all threads, so two threads parsing at once (hypothesis parses
 * the source of its filters to describe them) could fail with "SystemError: AST constructor
 * recursion depth mismatch" (python/cpython#106905): a clean run of the fuzz test failed so.
 */
const fs = require('node:fs');
const path = require('node:path');

/** Whether CPython `[major, minor, micro]` has the fix for python/cpython#106905. */
function hasThreadSafeAst([major, minor, micro]) {
  if (major !== 3) return major > 3;
  if (minor === 11) return micro >= 8;
  if (minor === 12) return micro >= 2;
  return minor > 12;
}

/** The Python version a virtual environment was made with (its pyvenv.cfg), or undefined. */
function venvPythonVersion(venvDir) {
  try {
    const config = fs.readFileSync(path.join(venvDir, 'pyvenv.cfg'), 'utf8');
    const match = /^version(?:_info)?\s*=\s*(\d+)\.(\d+)\.(\d+)/m.exec(config);
    return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
  } catch {
    return undefined;
  }
}

module.exports.hasThreadSafeAst = hasThreadSafeAst;
module.exports.venvPythonVersion = venvPythonVersion;
