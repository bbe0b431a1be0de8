/**
 * A Temporal cluster on PostgreSQL, on one machine, from nothing: the production shape of
 * docker-compose.yml without Docker.
 *
 *   postgres    a fresh data directory under the run's temporary directory, loopback only
 *   schema      temporal-sql-tool creates `temporal` and `temporal_visibility` and applies the
 *               server's own embedded schemas (what compose's temporal-schema service does)
 *   temporal    temporal-server with all four services (frontend, history, matching, worker) in
 *               one process, configured by the same environment compose gives the image
 *               (temporal/cluster/settings.cjs): NUM_HISTORY_SHARDS shards, task-queue
 *               partitions from temporal/dynamicconfig/production.yaml
 *   namespace   `default` with 30 days' retention and our search attributes (temporal-namespace)
 *   ui          the Temporal Web UI, when it could be built (temporal-ui)
 *
 * Every process belongs to the given Supervisor, which stops them all, also on failure.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { freePort, NAMESPACE } from '../../bench/support/system';
import { SEARCH_ATTRIBUTES as SEARCH_ATTRIBUTE_SETTINGS } from '../dev-server-settings.cjs';
import {
  NAMESPACE_RETENTION,
  NUM_HISTORY_SHARDS,
  serverEnvironment,
  TEMPORAL_SERVER_VERSION,
  type ServerPorts,
} from './settings.cjs';
import type { Supervisor } from './supervisor';
import type { ClusterTools } from './tools';

const execFileAsync = promisify(execFile);

/** Temporal's own database credentials: PostgreSQL only listens on loopback, so these stay local. */
const PG_USER = 'temporal';
const PG_PASSWORD = 'temporal';

export interface Cluster {
  /** gRPC frontend, host:port. */
  address: string;
  uiUrl: string | null;
  postgresPort: number;
  shards: number;
  version: string;
  /** SIGKILLs the server (a crash, not a shutdown), waits `downMs`, starts it again and waits until it serves. */
  crashAndRestartServer(downMs: number): Promise<{ unavailableMs: number }>;
}

export async function startCluster(
  supervisor: Supervisor,
  tools: ClusterTools,
  options: { ui: boolean; log: (line: string) => void },
): Promise<Cluster> {
  const { log } = options;
  const postgresPort = await startPostgres(supervisor, tools);
  log(`PostgreSQL on 127.0.0.1:${postgresPort}`);
  await setUpSchemas(tools, postgresPort);
  log('Temporal schemas set up (temporal, temporal_visibility)');

  const ports = await serverPorts();
  const address = `127.0.0.1:${ports.frontend}`;
  const startServer = () =>
    supervisor.start('temporal', tools.server, ['--allow-no-auth', 'start'], {
      env: {
        ...process.env,
        ...serverEnvironment({ postgresPort, postgresUser: PG_USER, postgresPassword: PG_PASSWORD, ports }),
      },
    });
  startServer();
  await waitUntil('the Temporal server', 120_000, supervisor, () => serving(address));
  await registerNamespace(address, log);
  log(
    `Temporal ${TEMPORAL_SERVER_VERSION} serving on ${address}: ${NUM_HISTORY_SHARDS} history shards, namespace ${NAMESPACE}`,
  );

  let uiUrl: string | null = null;
  if (options.ui && tools.uiServer) {
    uiUrl = await startUi(supervisor, tools.uiServer, address);
    log(`Temporal UI at ${uiUrl}`);
  } else if (options.ui) {
    log(`no Temporal UI: ${tools.uiUnavailable}`);
  }

  return {
    address,
    uiUrl,
    postgresPort,
    shards: NUM_HISTORY_SHARDS,
    version: TEMPORAL_SERVER_VERSION,
    async crashAndRestartServer(downMs) {
      const down = Date.now();
      await supervisor.kill('temporal', 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, downMs));
      startServer();
      await waitUntil(
        'the restarted Temporal server',
        120_000,
        supervisor,
        async () => (await serving(address)) && (await namespaceReady(address)),
      );
      return { unavailableMs: Date.now() - down };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

async function startPostgres(supervisor: Supervisor, tools: ClusterTools): Promise<number> {
  const dataDir = path.join(supervisor.dir, 'postgres');
  const socketDir = path.join(supervisor.dir, 'postgres-socket');
  // PostgreSQL refuses to run as root: as root, it runs as the `postgres` user Debian's package created.
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
  fs.chmodSync(supervisor.dir, 0o755);
  for (const dir of [dataDir, socketDir]) {
    fs.mkdirSync(dir, { mode: 0o700 });
    if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  }
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const passwordFile = path.join(socketDir, 'initdb-password');
  fs.writeFileSync(passwordFile, PG_PASSWORD, { mode: 0o600 });
  if (owner) fs.chownSync(passwordFile, owner.uid, owner.gid);
  await supervisor.runOnce(
    'initdb',
    path.join(tools.postgresBin, 'initdb'),
    ['-D', dataDir, '-U', PG_USER, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'],
    asOwner,
  );
  fs.rmSync(passwordFile);

  const port = await freePort();
  supervisor.start(
    'postgres',
    path.join(tools.postgresBin, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      socketDir,
      '-c',
      'listen_addresses=127.0.0.1',
      // Each Temporal service keeps its own pool per store (up to 20 + 10 connections); four services.
      '-c',
      'max_connections=200',
      // Sized as a production PostgreSQL for Temporal would be, rather than initdb's defaults.
      // After each checkpoint (by default every 5 minutes or 1 GB of WAL) the first write to a
      // page puts a full copy of it in the WAL, and Temporal's writes land on random pages of
      // tables that grow with every workflow (executions, timers, visibility): the fewer
      // checkpoints and the more of those tables in memory, the less a large cluster slows.
      '-c',
      'shared_buffers=1GB',
      '-c',
      'max_wal_size=8GB',
      '-c',
      'checkpoint_timeout=30min',
      '-c',
      'wal_compression=on',
      // Durability stays at PostgreSQL's defaults (fsync on, synchronous_commit on): the restart
      // test is only meaningful if what Temporal was told is committed really is.
    ],
    { ...asOwner, stopSignal: 'SIGINT' },
  );
  await waitUntil('PostgreSQL', 60_000, supervisor, async () => {
    try {
      await execFileAsync(
        path.join(tools.postgresBin, 'pg_isready'),
        ['-h', '127.0.0.1', '-p', String(port), '-U', PG_USER],
        { timeout: 5_000 },
      );
      return true;
    } catch {
      return false;
    }
  });
  return port;
}

function postgresUser(): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (!uid || !gid)
    throw new Error(
      "running as root, but there is no `postgres` user to run PostgreSQL as (Debian's postgresql package creates it)",
    );
  return { uid: Number(uid), gid: Number(gid) };
}

/** What compose's temporal-schema service does, with the schemas the tool embeds for this server version. */
async function setUpSchemas(tools: ClusterTools, port: number): Promise<void> {
  for (const [database, schema] of [
    ['temporal', 'postgresql/v12/temporal'],
    ['temporal_visibility', 'postgresql/v12/visibility'],
  ] as const) {
    const base = [
      '--plugin',
      'postgres12',
      '--ep',
      '127.0.0.1',
      '-p',
      String(port),
      '-u',
      PG_USER,
      '--pw',
      PG_PASSWORD,
      '--db',
      database,
    ];
    for (const command of [
      ['create-database'],
      ['setup-schema', '-v', '0.0'],
      ['update-schema', '--schema-name', schema],
    ]) {
      try {
        await execFileAsync(tools.sqlTool, [...base, ...command], { timeout: 120_000 });
      } catch (error) {
        const { stderr, stdout } = error as { stderr?: string; stdout?: string };
        throw new Error(
          `temporal-sql-tool ${command[0]} on ${database} failed:\n${stderr || stdout || String(error)}`,
          { cause: error },
        );
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Temporal server

/**
 * Ten free ports, all below 32768: the server records each host's membership port in a PostgreSQL
 * `smallint` column, so the kernel's ephemeral ports (32768 and up, what `freePort` gets) fail there.
 */
async function serverPorts(): Promise<ServerPorts> {
  const ports: number[] = [];
  while (ports.length < 10) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_000);
    if (!ports.includes(candidate) && (await canListen(candidate))) ports.push(candidate);
  }
  const [
    frontend,
    frontendHttp,
    frontendMembership,
    history,
    historyMembership,
    matching,
    matchingMembership,
    worker,
    workerMembership,
    internalFrontendHttp,
  ] = ports as [number, number, number, number, number, number, number, number, number, number];
  return {
    frontend,
    frontendHttp,
    frontendMembership,
    history,
    historyMembership,
    matching,
    matchingMembership,
    worker,
    workerMembership,
    internalFrontendHttp,
  };
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function serving(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: '2s' }).catch(() => null);
  if (!connection) return false;
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}

/**
 * What compose's temporal-namespace service does. A new namespace reaches every service through
 * its namespace cache (refreshed every few seconds), so this waits until a call that needs it,
 * and the search attributes, work.
 */
async function registerNamespace(address: string, log: (line: string) => void): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const described = await connection.workflowService.describeNamespace({ namespace: NAMESPACE }).catch(() => null);
    if (!described) {
      await connection.workflowService.registerNamespace({
        namespace: NAMESPACE,
        workflowExecutionRetentionPeriod: msToTs(NAMESPACE_RETENTION),
      });
      log(`registered namespace ${NAMESPACE} (retention ${NAMESPACE_RETENTION})`);
    }
    await waitUntilAsync('the namespace to reach every service', 60_000, () => namespaceReady(address, false));
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
    const missing = SEARCH_ATTRIBUTE_SETTINGS.filter(({ name }) => !(name in customAttributes));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace: NAMESPACE,
        searchAttributes: Object.fromEntries(missing.map(({ name, type }) => [name, indexedValueType(type)])),
      });
      log(`search attributes ${missing.map(({ name, type }) => `${name}=${type}`).join(', ')}`);
    }
    await waitUntilAsync('the search attributes', 60_000, () => namespaceReady(address));
  } finally {
    await connection.close();
  }
}

/** The namespace answers a visibility query, and (by default) lists every search attribute we need. */
async function namespaceReady(address: string, withAttributes = true): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: '2s' }).catch(() => null);
  if (!connection) return false;
  try {
    await connection.workflowService.countWorkflowExecutions({ namespace: NAMESPACE, query: '' });
    if (!withAttributes) return true;
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
    return SEARCH_ATTRIBUTE_SETTINGS.every(({ name }) => name in customAttributes);
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}

/** temporal.api.enums.v1.IndexedValueType numbers for the type names temporal/dev-server-settings.cjs uses. */
function indexedValueType(type: string): number {
  const types: Record<string, number> = {
    Text: 1,
    Keyword: 2,
    Int: 3,
    Double: 4,
    Bool: 5,
    Datetime: 6,
    KeywordList: 7,
  };
  const value = types[type];
  if (value === undefined) throw new Error(`unknown search attribute type ${type}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// UI

async function startUi(supervisor: Supervisor, binary: string, address: string): Promise<string> {
  const port = await freePort();
  const configDir = path.join(supervisor.dir, 'ui-config');
  fs.mkdirSync(configDir, { recursive: true });
  // Loopback only, like compose's 127.0.0.1:8080 mapping: the UI has no authentication of its own.
  fs.writeFileSync(
    path.join(configDir, 'base.yaml'),
    [
      `temporalGrpcAddress: ${address}`,
      'host: 127.0.0.1',
      `port: ${port}`,
      'enableUi: true',
      `defaultNamespace: ${NAMESPACE}`,
      'disableNewsFetch: true',
      'cors:',
      '  cookieInsecure: true',
      '  allowOrigins:',
      `    - http://127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  supervisor.start('temporal-ui', binary, [
    '--root',
    supervisor.dir,
    '--config',
    'ui-config',
    '--env',
    'none',
    'start',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('the Temporal UI', 60_000, supervisor, async () => (await fetch(url).catch(() => null))?.ok ?? false);
  return url;
}

// ---------------------------------------------------------------------------------------------

async function waitUntil(
  what: string,
  timeoutMs: number,
  supervisor: Supervisor,
  ready: () => Promise<boolean>,
): Promise<void> {
  await waitUntilAsync(what, timeoutMs, async () => {
    supervisor.assertHealthy();
    return ready();
  });
}

async function waitUntilAsync(what: string, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
