/**
 * docker-compose.yml and the cluster harness (temporal/cluster/) describe the same production
 * Temporal: this keeps them from drifting apart. No server runs here; the harness itself is
 * exercised by `npm run test:cluster` (see temporal/README.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sendTaskQueue, type ProviderName } from '../../src/shared';
import { WORKER_NODE_FLAGS } from '../../src/worker/node-flags';
import { SEARCH_ATTRIBUTES } from '../../temporal/dev-server-settings.cjs';
import { REPO_ROOT } from '../../temporal/paths.cjs';
import {
  DYNAMIC_CONFIG_FILE,
  NAMESPACE_RETENTION,
  NUM_HISTORY_SHARDS,
  serverEnvironment,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_UI_VERSION,
} from '../../temporal/cluster/settings.cjs';

const compose = fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
const ports = {
  frontend: 1,
  frontendHttp: 2,
  frontendMembership: 3,
  history: 4,
  historyMembership: 5,
  matching: 6,
  matchingMembership: 7,
  worker: 8,
  workerMembership: 9,
  internalFrontendHttp: 10,
};
const harnessEnv = serverEnvironment({
  postgresPort: 5432,
  postgresUser: 'temporal',
  postgresPassword: 'temporal',
  ports,
});

describe('docker-compose.yml and the cluster harness', () => {
  it('run the same Temporal server, admin tools and UI versions', () => {
    expect(compose).toContain(`temporalio/server:\${TEMPORAL_VERSION:-${TEMPORAL_SERVER_VERSION}}`);
    expect(compose).toContain(`temporalio/admin-tools:\${TEMPORAL_VERSION:-${TEMPORAL_SERVER_VERSION}}`);
    expect(compose).toContain(`temporalio/ui:\${TEMPORAL_UI_VERSION:-${TEMPORAL_UI_VERSION}}`);
    expect(compose).not.toMatch(/TEMPORAL_VERSION:-(?!\d+\.\d+\.\d+\})/);
  });

  it('configure the server alike: PostgreSQL, history shards, the production dynamic config', () => {
    expect(harnessEnv.DB).toBe('postgres12');
    expect(compose).toMatch(/DB: postgres12\b/);
    expect(harnessEnv.NUM_HISTORY_SHARDS).toBe(String(NUM_HISTORY_SHARDS));
    expect(compose).toContain(`NUM_HISTORY_SHARDS: \${NUM_HISTORY_SHARDS:-${NUM_HISTORY_SHARDS}}`);
    expect(path.relative(REPO_ROOT, DYNAMIC_CONFIG_FILE)).toBe(
      path.join('temporal', 'dynamicconfig', 'production.yaml'),
    );
    expect(harnessEnv.DYNAMIC_CONFIG_FILE_PATH).toBe(DYNAMIC_CONFIG_FILE);
    expect(compose).toContain('DYNAMIC_CONFIG_FILE_PATH: config/dynamicconfig/production.yaml');
    expect(compose).toContain('./temporal/dynamicconfig:/etc/temporal/config/dynamicconfig:ro');
  });

  it('create the namespace with the same retention and our search attributes', () => {
    expect(compose).toContain(`--retention ${NAMESPACE_RETENTION}`);
    for (const { name, type } of SEARCH_ATTRIBUTES) expect(compose).toContain(`--name ${name} --type ${type}`);
  });

  it("start workers with src/worker/node-flags.ts's flags, as npm start and the harness do", () => {
    const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const command = ['node', ...WORKER_NODE_FLAGS, 'dist/worker/main.js'];
    expect(dockerfile).toContain(`CMD [${command.map((part) => `"${part}"`).join(', ')}]`);
    const worker = compose.slice(compose.indexOf('\n  worker:') + 1).split(/\n {2}(?=\S)/)[0]!;
    expect(worker).toContain(`command: [${command.map((part) => `'${part}'`).join(', ')}]`);
  });
});

describe('temporal/dynamicconfig/production.yaml', () => {
  const yaml = fs.readFileSync(DYNAMIC_CONFIG_FILE, 'utf8');
  const providers: ProviderName[] = ['interakt', 'meta', 'infobip'];

  it.each(['matching.numTaskqueueReadPartitions', 'matching.numTaskqueueWritePartitions'])(
    '%s: 4 partitions by default, 1 for each provider send queue of the default task queue',
    (key) => {
      const section = yaml.slice(yaml.indexOf(`${key}:`)).split(/\n(?=\S)/)[0]!;
      const entries = section.split(/\n {2}- /).slice(1);
      const defaultEntry = entries.find((entry) => !entry.includes('constraints'));
      expect(defaultEntry?.trim()).toBe('value: 4');
      for (const provider of providers) {
        const entry = entries.find((candidate) =>
          candidate.includes(`taskQueueName: ${sendTaskQueue('dripline', provider)}`),
        );
        expect(entry, `${key} for ${provider}`).toMatch(/^value: 1\b/);
      }
    },
  );
});
