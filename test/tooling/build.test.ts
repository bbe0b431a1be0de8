import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api/auth';
import { openDb } from '../../src/db/client';
import { createApiKey } from '../../src/db/queries';
import { prebuiltWorkflowBundle } from '../../src/worker/workers';
import { REPO_ROOT } from '../../temporal/paths.cjs';
import { apiClient } from '../support/api';
import { EMULATOR_KEY, nextPhone, waitFor } from '../support/drip-harness';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../support/emulator';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { seedTemplates } from '../support/templates';

const BUILD_TIMEOUT_MS = 300_000;

/**
 * `npm run build` as the Dockerfile runs it, then the built processes as production runs them:
 * plain `node dist/...`, no tsx loader, from a directory holding only dist/ and node_modules, so
 * nothing can be read from src/ or the repository (migrations, the workflow code) by accident.
 */
describe('npm run build', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-build-'));
  const dist = path.join(root, 'dist');
  const dbUrl = `file:${path.join(root, 'data', 'dripline.db')}`;
  const taskQueue = uniqueTaskQueue('build');
  const children: ChildProcess[] = [];
  let env: TestWorkflowEnvironment;
  let emulator: StartedInteraktEmulator;
  let request: ReturnType<typeof apiClient>;
  let apiUrl: string;

  beforeAll(async () => {
    await run('npm', ['run', 'build', '--', '--out-dir', dist], { cwd: REPO_ROOT });
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');

    env = await createDevServerEnv();
    emulator = await startInteraktEmulator({ apiKey: EMULATOR_KEY, autoWebhooks: false });
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    const processEnv = {
      // A fresh environment: nothing inherited (NODE_OPTIONS with a loader included).
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DRIPLINE_SECRET_KEY: randomBytes(32).toString('base64'),
      DATABASE_URL: dbUrl,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      INTERAKT_BASE_URL: emulator.baseUrl,
      INTERAKT_API_KEY: EMULATOR_KEY,
      INTERAKT_SENDS_PER_SECOND: '100',
      LOG_LEVEL: 'warn',
    };

    await run(process.execPath, [path.join(dist, 'cli', 'migrate.js')], { cwd: root, env: processEnv });
    const db = await openDb(dbUrl);
    try {
      await seedTemplates(db);
      const { key, keyHash, keyPrefix } = generateApiKey();
      await createApiKey(db, { name: 'build-test', keyHash, keyPrefix });
      request = apiClient(apiUrl, key);
    } finally {
      await db.close();
    }

    for (const entry of ['api/server.js', 'worker/main.js']) {
      children.push(startChild(path.join(dist, entry), { cwd: root, env: processEnv }));
    }
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await emulator?.close();
    await env?.teardown();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('writes the workflow bundle and the migrations where the built worker and migrate look for them', () => {
    expect(prebuiltWorkflowBundle(dist)).toEqual({ codePath: path.join(dist, 'workflow-bundle.js') });
    for (const dialect of ['sqlite', 'mssql']) {
      expect(fs.readdirSync(path.join(dist, 'db', 'migrations', dialect)).sort()).toEqual(
        fs.readdirSync(path.join(REPO_ROOT, 'src', 'db', 'migrations', dialect)).sort(),
      );
    }
  });

  it('node dist/api/server.js answers /health 200 with the database and Temporal reachable', async () => {
    const health = await waitFor(
      () =>
        fetch(`${apiUrl}/health`).then(
          (response) => (response.status === 200 ? response.json() : null),
          () => null,
        ),
      'the built API to answer /health',
      60_000,
    );
    expect(health).toMatchObject({ status: 'ok', database: { ok: true }, temporal: { ok: true } });
  });

  it('node dist/api/server.js serves the console from dist/console, with its hashed assets, without web/', async () => {
    expect(fs.existsSync(path.join(root, 'web'))).toBe(false);
    expect(fs.existsSync(path.join(dist, 'console', 'index.html'))).toBe(true);
    const page = await waitFor(
      () =>
        fetch(`${apiUrl}/console/leads`).then(
          (response) => (response.status === 200 ? response : null),
          () => null,
        ),
      'the built API to serve /console',
      60_000,
    );
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    const script = html.match(/src="(\/console\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${apiUrl}${script}`, { headers: { 'accept-encoding': 'br' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('node dist/worker/main.js runs a drip the built API started, sending through the provider once', async () => {
    const lead = await request('POST', '/leads', { name: 'Asha Rao', phone: nextPhone() });
    expect(lead.status).toBe(201);
    const sequence = await request('POST', '/sequences', {
      name: 'built',
      steps: [{ templateName: 'drip_day_1', delaySeconds: 0, variables: { body: [{ field: 'name' }] } }],
    });
    expect(sequence.status).toBe(201);
    const assigned = await request('POST', `/sequences/${sequence.body.id}/assignments`, { leadIds: [lead.body.id] });
    expect(assigned.status).toBe(201);
    const { assignmentId, workflowId } = assigned.body.assignments[0];

    const detail = await waitFor(
      async () => {
        const response = await request('GET', `/assignments/${assignmentId}`);
        return response.body.status === 'completed' ? response.body : null;
      },
      'the built worker to complete the drip',
      60_000,
    );

    expect(detail.messages.map((message: { templateName: string }) => message.templateName)).toEqual(['drip_day_1']);
    expect(emulator.emulator.state.acceptedMessages().map((message) => message.callbackData)).toEqual([
      `${workflowId}:0`,
    ]);
  });

  function startChild(entry: string, options: { cwd: string; env: NodeJS.ProcessEnv }): ChildProcess {
    const child = spawn(process.execPath, [entry], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A process that dies early says why in the test output, rather than leaving only a timeout.
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL') console.error(`${entry} exited (${code ?? signal}):\n${output}`);
    });
    return child;
  }
});

/** Runs a command to completion; rejects with its output when it fails. */
function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
