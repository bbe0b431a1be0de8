'use strict';
/**
 * Where the locally installed Temporal tools live. Shared by scripts/ensure-tools.mjs (which puts
 * them there), temporal/dev-server.mjs, src/start.ts and test/support/temporal.ts, so the layout
 * is decided in one place. CommonJS so both the .mjs scripts and the TypeScript code can load it.
 */
const path = require('node:path');

// `module.exports.X =` rather than `module.exports = {...}` so Node can see the names when an ES module
// imports them (cjs-module-lexer only detects this form reliably).
const REPO_ROOT = path.resolve(__dirname, '..');
const TOOLS_DIR = path.join(REPO_ROOT, '.tools');
const TOOLS_BIN_DIR = path.join(TOOLS_DIR, 'bin');

module.exports.REPO_ROOT = REPO_ROOT;
module.exports.TOOLS_DIR = TOOLS_DIR;
module.exports.TOOLS_BIN_DIR = TOOLS_BIN_DIR;
/** The Temporal CLI; `temporal server start-dev` is the local server. */
module.exports.TEMPORAL_CLI_PATH = path.join(TOOLS_BIN_DIR, 'temporal');
/** Shell wrapper around the Java time-skipping test server; takes the port as first argument. */
module.exports.TEST_SERVER_PATH = path.join(TOOLS_BIN_DIR, 'temporal-test-server');
module.exports.TEST_SERVER_LIB_DIR = path.join(TOOLS_DIR, 'test-server', 'lib');
/** schemathesis, in its own virtual environment: fuzzes the API from /openapi.json in the tests. */
module.exports.SCHEMATHESIS_PATH = path.join(TOOLS_DIR, 'schemathesis', 'bin', 'schemathesis');
/** The dev server's SQLite file, so workflows survive a restart of `npm start`. */
module.exports.DEV_SERVER_DB_PATH = path.join(REPO_ROOT, 'data', 'temporal.db');
