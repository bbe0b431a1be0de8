'use strict';
/**
 * How the local Temporal dev server is configured. Read by temporal/dev-server.mjs (`npm start`,
 * `npm run temporal:dev`) and by test/support/temporal.ts, so tests run against the same server
 * behaviour as development. See temporal/README.md for the reasoning behind each value.
 */

/**
 * Must match SEARCH_ATTRIBUTES in src/shared.ts (a tooling test checks it). Duplicated because
 * this file is loaded by plain Node scripts that cannot import TypeScript.
 */
const SEARCH_ATTRIBUTES = Object.freeze([
  Object.freeze({ name: 'LeadId', type: 'Int' }),
  Object.freeze({ name: 'DripSequenceId', type: 'Int' }),
  Object.freeze({ name: 'FlowKind', type: 'Keyword' }),
]);

/**
 * `--dynamic-config-value KEY=JSON` entries.
 *
 * One partition per task queue: the server divides a queue's `maxTaskQueueActivitiesPerSecond`
 * equally among its read partitions (4 by default) while tasks land on partitions at random, so
 * with several partitions the provider send rate is only approximately the configured one. A
 * single local server never needs the throughput of more partitions.
 */
const DYNAMIC_CONFIG = Object.freeze({
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
  // Task priority (SEND_PRIORITY in src/shared.ts: CTA and welcome sends before drip steps, drip
  // steps before campaign sends) is served by the priority matcher. Server 1.32 turns it on by
  // default; stated so an older binary or a changed default cannot silently make the send queue
  // first-come again. Priority orders within one partition, and send queues have one.
  'matching.useNewMatcher': true,
});

/**
 * WAL lets the UI and visibility queries read while the server writes; synchronous=normal is the
 * usual WAL pairing and only risks the last transactions on power loss, fine for development.
 */
const SQLITE_PRAGMAS = Object.freeze({
  journal_mode: 'wal',
  synchronous: 'normal',
});

function searchAttributeArgs() {
  return SEARCH_ATTRIBUTES.flatMap(({ name, type }) => ['--search-attribute', `${name}=${type}`]);
}

function dynamicConfigArgs() {
  return Object.entries(DYNAMIC_CONFIG).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
}

function sqlitePragmaArgs() {
  return Object.entries(SQLITE_PRAGMAS).flatMap(([key, value]) => ['--sqlite-pragma', `${key}=${value}`]);
}

// `module.exports.X =` so ES modules importing this file see the names (see paths.cjs).
module.exports.SEARCH_ATTRIBUTES = SEARCH_ATTRIBUTES;
module.exports.DYNAMIC_CONFIG = DYNAMIC_CONFIG;
module.exports.SQLITE_PRAGMAS = SQLITE_PRAGMAS;
module.exports.searchAttributeArgs = searchAttributeArgs;
module.exports.dynamicConfigArgs = dynamicConfigArgs;
module.exports.sqlitePragmaArgs = sqlitePragmaArgs;
