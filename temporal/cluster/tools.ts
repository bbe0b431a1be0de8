/**
 * Puts what the cluster harness runs into place on a fresh machine, and costs nothing once it has:
 *
 *   PostgreSQL            Debian's `postgresql` package (apt-get, as root), used from its bin directory
 *   temporal-server       `go install go.temporal.io/server/cmd/server@v<version>`
 *   temporal-sql-tool     `go install go.temporal.io/server/cmd/tools/sql@v<version>` (schemas embedded)
 *   temporal-ui-server    `go install github.com/temporalio/ui-server/v2/cmd/server@v<ui version>`, optional
 *
 * The Go binaries go to .tools/temporal-cluster-v<version>/ (gitignored), keyed by version, so an
 * upgrade builds anew and never mixes binaries. Building the server takes about 5 minutes on
 * 2 cores the first time; the Go module cache makes a rebuild of the same version quicker.
 * Nothing here downloads a prebuilt binary: the server is not published anywhere the machine can
 * reach except as Go source on the module proxy.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CLUSTER_TOOLS_DIR,
  GO_TOOLCHAIN,
  TEMPORAL_SERVER_PATH,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_SQL_TOOL_PATH,
  TEMPORAL_UI_SERVER_PATH,
  TEMPORAL_UI_VERSION,
} from './settings.cjs';

export interface ClusterTools {
  /** Directory holding initdb, postgres and pg_ctl of the newest installed PostgreSQL. */
  postgresBin: string;
  server: string;
  sqlTool: string;
  /** Null when the UI server could not be built here (the reason is in `uiUnavailable`). */
  uiServer: string | null;
  uiUnavailable: string | null;
}

const UI_FAILURE_STAMP = `${TEMPORAL_UI_SERVER_PATH}.failed`;

export function ensureClusterTools(log: (line: string) => void): ClusterTools {
  const postgresBin = ensurePostgres(log);
  fs.mkdirSync(CLUSTER_TOOLS_DIR, { recursive: true });
  if (!isExecutable(TEMPORAL_SERVER_PATH)) {
    goInstall(
      `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
      'server',
      TEMPORAL_SERVER_PATH,
      log,
      '(about 5 minutes on 2 cores)',
    );
  }
  if (!isExecutable(TEMPORAL_SQL_TOOL_PATH)) {
    goInstall(
      `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
      'sql',
      TEMPORAL_SQL_TOOL_PATH,
      log,
      '(about a minute)',
    );
  }
  const ui = ensureUiServer(log);
  return { postgresBin, server: TEMPORAL_SERVER_PATH, sqlTool: TEMPORAL_SQL_TOOL_PATH, ...ui };
}

/**
 * The UI is a convenience, not part of what the tests prove: a failed build is remembered (so
 * every later run does not spend minutes failing again) and the cluster starts without it.
 * Delete the `.failed` file next to where the binary would be to try again.
 */
function ensureUiServer(log: (line: string) => void): { uiServer: string | null; uiUnavailable: string | null } {
  if (isExecutable(TEMPORAL_UI_SERVER_PATH)) return { uiServer: TEMPORAL_UI_SERVER_PATH, uiUnavailable: null };
  if (fs.existsSync(UI_FAILURE_STAMP))
    return { uiServer: null, uiUnavailable: fs.readFileSync(UI_FAILURE_STAMP, 'utf8').trim() };
  try {
    goInstall(
      `github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_VERSION}`,
      'server',
      TEMPORAL_UI_SERVER_PATH,
      log,
      '(about 2 minutes)',
    );
    return { uiServer: TEMPORAL_UI_SERVER_PATH, uiUnavailable: null };
  } catch (error) {
    const reason = `building the UI server v${TEMPORAL_UI_VERSION} failed: ${error instanceof Error ? error.message : String(error)}`;
    fs.writeFileSync(UI_FAILURE_STAMP, `${reason}\n`);
    log(`${reason}; the cluster runs without its UI`);
    return { uiServer: null, uiUnavailable: reason };
  }
}

/** Builds one Go command into a scratch GOBIN and moves it into place only once it is complete. */
function goInstall(pkg: string, builtName: string, target: string, log: (line: string) => void, howLong: string): void {
  const go = ensureGo(log);
  const scratch = fs.mkdtempSync(path.join(CLUSTER_TOOLS_DIR, '.build-'));
  try {
    log(`building ${pkg} ${howLong}`);
    const started = Date.now();
    const result = spawnSync(go, ['install', pkg], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, GOBIN: scratch, GOTOOLCHAIN: GO_TOOLCHAIN, CGO_ENABLED: '0' },
    });
    if (result.status !== 0) throw new Error(`go install ${pkg} exited with ${result.signal ?? result.status}`);
    fs.renameSync(path.join(scratch, builtName), target);
    log(`built ${path.basename(target)} in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function ensureGo(log: (line: string) => void): string {
  const found = which('go');
  if (found) return found;
  // Debian's Go is older than the server needs, but any go ≥ 1.21 fetches GO_TOOLCHAIN itself.
  aptInstall(['golang-go'], log);
  const installed = which('go');
  if (!installed) throw new Error('`go` is still not on PATH after installing golang-go');
  return installed;
}

/** PostgreSQL's server binaries are not on PATH in Debian; they live in /usr/lib/postgresql/<major>/bin. */
function ensurePostgres(log: (line: string) => void): string {
  const existing = findPostgresBin();
  if (existing) return existing;
  aptInstall(['postgresql'], log);
  const installed = findPostgresBin();
  if (!installed) throw new Error('PostgreSQL was installed but no /usr/lib/postgresql/<major>/bin/initdb was found');
  return installed;
}

function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const majors = fs
    .readdirSync(root)
    .filter((name) => /^\d+$/.test(name) && isExecutable(path.join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? path.join(root, majors[0], 'bin') : null;
}

function aptInstall(packages: string[], log: (line: string) => void): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${packages.join(', ')} missing: install with \`sudo apt-get install -y ${packages.join(' ')}\` (the harness only installs packages as root)`,
    );
  }
  log(`installing ${packages.join(', ')} from Debian's packages`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...packages]]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${result.signal ?? result.status})`);
  }
}

function which(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (dir && isExecutable(candidate)) return candidate;
  }
  // The official tarball's default place, often missing from PATH in non-login shells.
  return isExecutable('/usr/local/go/bin/go') && command === 'go' ? '/usr/local/go/bin/go' : null;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
