'use strict';
/**
 * The production shape of Temporal, in one place: the server version and the settings that
 * docker-compose.yml gives the `temporalio/server` image, which the cluster harness
 * (temporal/cluster/cluster.ts, `npm run cluster`) gives the server it builds from source.
 * test/cluster/settings.test.ts checks that docker-compose.yml still says the same.
 *
 * CommonJS so plain Node scripts and the TypeScript harness can both load it (see ../paths.cjs).
 */
const path = require('node:path');
const { REPO_ROOT, TOOLS_DIR } = require('../paths.cjs');

/**
 * The server release both run. The CLI dev server (`npm start`, the tests) bundles 1.32.0; the
 * cluster runs the newest patch of the same minor, 1.32.2, the one the Go module proxy serves.
 */
const TEMPORAL_SERVER_VERSION = '1.32.2';
/** The Web UI the dev CLI bundles; built from `github.com/temporalio/ui-server/v2` when it can be. */
const TEMPORAL_UI_VERSION = '2.54.1';
/**
 * Go 1.26 (this machine's) cannot build server 1.32; the go command fetches this toolchain from
 * the module proxy by itself when GOTOOLCHAIN names it.
 */
const GO_TOOLCHAIN = 'go1.27.3';

/**
 * History shards. Every workflow lives on one shard and a shard's updates are serialised, so
 * shards are the history service's unit of parallelism; the count is fixed when the cluster's
 * database is created and can never change. 16 gives a 2-core machine parallel writes to
 * PostgreSQL without spending its CPU on hundreds of idle shard loops. A large production cluster
 * would start with 512 or more (set NUM_HISTORY_SHARDS before its first `docker compose up`).
 */
const NUM_HISTORY_SHARDS = 16;

/**
 * Dynamic config: task-queue partitions (4 for every queue, 1 for each provider send queue) and
 * nothing else. Mounted into the server container by docker-compose.yml; passed by path here.
 */
const DYNAMIC_CONFIG_FILE = path.join(REPO_ROOT, 'temporal', 'dynamicconfig', 'production.yaml');

/** How long closed workflows stay visible; the message log in SQL is the long-term record. */
const NAMESPACE_RETENTION = '30d';

/**
 * The environment the server reads its configuration from: the same variables docker-compose.yml
 * sets on the `temporal` service, rendered by the server's own embedded config template (the one
 * the image uses). Ports are parameters because the harness runs on free ones.
 */
function serverEnvironment({ postgresPort, postgresUser, postgresPassword, ports }) {
  return {
    DB: 'postgres12',
    DB_PORT: String(postgresPort),
    POSTGRES_SEEDS: '127.0.0.1',
    POSTGRES_USER: postgresUser,
    POSTGRES_PWD: postgresPassword,
    NUM_HISTORY_SHARDS: String(NUM_HISTORY_SHARDS),
    DYNAMIC_CONFIG_FILE_PATH: DYNAMIC_CONFIG_FILE,
    // Loopback only: like the dev server, nothing off this machine reaches an unauthenticated server.
    BIND_ON_IP: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(ports.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.history),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_GRPC_PORT: String(ports.matching),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_GRPC_PORT: String(ports.worker),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    INTERNAL_FRONTEND_HTTP_PORT: String(ports.internalFrontendHttp),
    LOG_LEVEL: 'warn',
  };
}

/** Where the built binaries live, one directory per version so an upgrade never mixes them. */
const CLUSTER_TOOLS_DIR = path.join(TOOLS_DIR, `temporal-cluster-v${TEMPORAL_SERVER_VERSION}`);

module.exports.TEMPORAL_SERVER_VERSION = TEMPORAL_SERVER_VERSION;
module.exports.TEMPORAL_UI_VERSION = TEMPORAL_UI_VERSION;
module.exports.GO_TOOLCHAIN = GO_TOOLCHAIN;
module.exports.NUM_HISTORY_SHARDS = NUM_HISTORY_SHARDS;
module.exports.DYNAMIC_CONFIG_FILE = DYNAMIC_CONFIG_FILE;
module.exports.NAMESPACE_RETENTION = NAMESPACE_RETENTION;
module.exports.CLUSTER_TOOLS_DIR = CLUSTER_TOOLS_DIR;
module.exports.TEMPORAL_SERVER_PATH = path.join(CLUSTER_TOOLS_DIR, 'temporal-server');
module.exports.TEMPORAL_SQL_TOOL_PATH = path.join(CLUSTER_TOOLS_DIR, 'temporal-sql-tool');
module.exports.TEMPORAL_UI_SERVER_PATH = path.join(CLUSTER_TOOLS_DIR, `temporal-ui-server-v${TEMPORAL_UI_VERSION}`);
module.exports.serverEnvironment = serverEnvironment;
