/**
 * Provider settings over HTTP with a real worker whose Interakt provider reads its key from the
 * settings, as src/worker/main.ts wires it: keys are write-only and masked, sealed at rest, a rotation
 * is used by the next send without a restart, and no key ever reaches a log or a response.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createActivities } from '../../src/worker/activities';
import { generateApiKey } from '../../src/api/auth';
import type { Db } from '../../src/db/client';
import { createApiKey, getMasterDataCategory } from '../../src/db/queries';
import { createInteraktEmulator, type InteraktEmulator, type ListeningEmulator } from '../../src/emulators/interakt';
import { createInteraktProvider } from '../../src/providers/interakt';
import { interaktApiKeyReader } from '../../src/settings/provider-settings';
import { createSecretBox, generateSecretKey } from '../../src/settings/secret-box';
import { sendTaskQueue } from '../../src/shared';
import { welcomeWorkflowId } from '../../src/welcome/contract';
import { createWorkers, runWorkers } from '../../src/worker/workers';
import { apiClient, listen, type ApiResponse, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { seedTemplates } from '../support/templates';
import { startInteraktEmulator } from '../support/emulator';
import { nextPhone, waitFor } from '../support/drip-harness';
import { createAppWithSettings } from '../support/settings-app';
import { bundleWorkflows, createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { createLogger } from '../../src/logging/logger';

const OLD_KEY = 'old-interakt-key-7Hq2x9aa11';
const NEW_KEY = 'new-interakt-key-Pz4k0mbb22';
const WEBHOOK_SECRET = 'webhook-secret-Xy81nQcc33';
const SECRETS = [OLD_KEY, NEW_KEY, WEBHOOK_SECRET];

describe('Interakt settings API', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  let workers: Worker[];
  let running: Promise<void>;
  let emulator: { state: InteraktEmulator['state']; close: () => Promise<void> };
  let emulatorUrl: string;
  const box = createSecretBox(generateSecretKey());
  const taskQueue = uniqueTaskQueue('settings');
  /** Everything written to the console or the process's streams while the suite runs. */
  const output: string[] = [];
  /** Every response body, as text. */
  const responses: string[] = [];

  beforeAll(async () => {
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation(
        (...args: unknown[]) => void output.push(args.map(String).join(' ')),
      );
    }
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: never[]) => {
        output.push(String(chunk));
        return write(chunk as string, ...rest);
      }) as typeof stream.write);
    }

    env = await createDevServerEnv();
    db = await createTestDb();
    await seedTemplates(db);
    const started = await startInteraktEmulator({ apiKey: OLD_KEY });
    emulator = { state: started.emulator.state, close: started.close };
    emulatorUrl = started.url;
    const provider = createInteraktProvider({
      baseUrl: started.baseUrl,
      getApiKey: interaktApiKeyReader(db, box, {}),
      timeoutMs: 2_000,
    });
    workers = await createWorkers({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities: createActivities({ db, provider, reconcileWindowMs: 1_000, configRetryDelayMs: 300 }),
      provider: 'interakt',
      sendsPerSecond: 200,
      workflowBundle: await bundleWorkflows(),
    });
    running = runWorkers(workers);

    const app = createAppWithSettings({
      db,
      temporal: env.client,
      taskQueue,
      sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
      defaultCountry: 'IN',
      secretBox: box,
      // The API's real logger (redaction included), its lines captured with everything else.
      log: createLogger({ level: 'debug', destination: { write: (line: string) => void output.push(line) } }),
    });
    api = await listen(app);
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    const plain = apiClient(api.url, key);
    request = async (...args: Parameters<typeof plain>): Promise<ApiResponse> => {
      const response = await plain(...args);
      responses.push(JSON.stringify(response.body));
      return response;
    };
  });

  afterAll(async () => {
    for (const worker of workers ?? []) if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await emulator?.close();
    await api?.close();
    await env?.teardown();
    await db?.close();
    vi.restoreAllMocks();
  });

  it('takes keys write-only: PUT and GET show them masked, and the database holds them sealed', async () => {
    const put = await request('PUT', '/settings/interakt', { apiKey: OLD_KEY, webhookSecret: WEBHOOK_SECRET });

    expect(put.status).toBe(200);
    const masked = {
      apiKey: `••••••••${OLD_KEY.slice(-4)}`,
      apiKeySet: true,
      apiKeySource: 'settings',
      webhookSecret: `••••••••${WEBHOOK_SECRET.slice(-4)}`,
      webhookSecretSet: true,
      webhookSecretSource: 'settings',
    };
    expect(put.body).toMatchObject(masked);
    const get = await request('GET', '/settings/interakt');
    expect(get.body).toEqual(put.body);

    const rows = await getMasterDataCategory(db, 'interakt');
    const stored = rows.find((row) => row.key === 'apiKey')!;
    expect(stored.isSecret).toBe(true);
    expect(stored.value).toMatch(/^v1:/);
    expect(stored.value).not.toContain(OLD_KEY);
    expect(box.open(stored.value, 'interakt/apiKey')).toBe(OLD_KEY);
  });

  it('refuses bad settings with 400 naming each field, and changes nothing', async () => {
    const before = (await request('GET', '/settings/interakt')).body;

    const bad = await request('PUT', '/settings/interakt', {
      apiKey: 'has a space',
      enabled: 'yes',
      defaultCountryCode: '+999',
      welcomeHeaderMediaUrl: 'ftp://example.com/x.pdf',
      surprise: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((issue: { path: string }) => issue.path).sort()).toEqual(
      ['(root)', 'apiKey', 'defaultCountryCode', 'enabled', 'welcomeHeaderMediaUrl'].sort(),
    );
    const noTemplate = await request('PUT', '/settings/interakt', { welcomeOnCreate: true });
    expect(noTemplate.status).toBe(400);
    expect(noTemplate.body.error.issues).toEqual([
      { location: 'body', path: 'welcomeTemplateName', message: 'is required while welcomeOnCreate is on' },
    ]);
    expect((await request('PUT', '/settings/interakt', {})).status).toBe(400);
    const unknownWelcome = await request('PUT', '/settings/interakt', {
      welcomeOnCreate: true,
      welcomeTemplateName: 'no_such_template',
    });
    expect(unknownWelcome.status).toBe(400);
    expect(unknownWelcome.body.error.issues[0]).toMatchObject({
      path: 'welcomeTemplateName',
      message: expect.stringContaining('no_such_template'),
    });
    // welcome_message needs two body values; a welcome gives one (the lead's name).
    const wrongCount = await request('PUT', '/settings/interakt', {
      welcomeOnCreate: true,
      welcomeTemplateName: 'welcome_message',
    });
    expect(wrongCount.status).toBe(400);
    expect(wrongCount.body.error.issues[0].message).toContain('2 body variables');
    // Malformed JSON around a key: refused without quoting the body back.
    const malformed = await request('PUT', '/settings/interakt', `{"apiKey": ${OLD_KEY}}`);
    expect(malformed.body.error).toEqual({ code: 'invalid_body', message: 'request body is not valid JSON' });

    expect((await request('GET', '/settings/interakt')).body).toEqual(before);
  });

  it('uses a key rotated through PUT /settings/interakt for the next send, and never the old key again', async () => {
    const enabled = await request('PUT', '/settings/interakt', {
      welcomeOnCreate: true,
      welcomeTemplateName: 'seller_registration',
      welcomeHeaderMediaUrl: 'https://example.com/p.pdf',
    });
    expect(enabled.status).toBe(200);

    const first = await request('POST', '/leads', { name: 'Before Rotation', phone: nextPhone() });
    expect(await env.client.workflow.getHandle(welcomeWorkflowId(first.body.id)).result()).toMatchObject({
      kind: 'sent',
    });
    expect(emulator.state.requests().every((entry) => entry.authorized)).toBe(true);

    // Interakt issues a new key: the old one stops working there (same address, new key).
    await emulator.close();
    const rotated: InteraktEmulator = createInteraktEmulator({ apiKey: NEW_KEY });
    const listening: ListeningEmulator = await rotated.listen(Number(new URL(emulatorUrl).port), '127.0.0.1');
    emulator = { state: rotated.state, close: listening.close };

    const second = await request('POST', '/leads', { name: 'During Rotation', phone: nextPhone() });
    await waitFor(
      () => rotated.state.requests().some((entry) => !entry.authorized),
      'a send with the old key to be refused',
    );
    expect(rotated.state.acceptedMessages()).toEqual([]);

    const put = await request('PUT', '/settings/interakt', { apiKey: NEW_KEY });
    expect(put.body).toMatchObject({ apiKey: `••••••••${NEW_KEY.slice(-4)}`, apiKeySet: true });

    expect(await env.client.workflow.getHandle(welcomeWorkflowId(second.body.id)).result()).toMatchObject({
      kind: 'sent',
    });
    const third = await request('POST', '/leads', { name: 'After Rotation', phone: nextPhone() });
    expect(await env.client.workflow.getHandle(welcomeWorkflowId(third.body.id)).result()).toMatchObject({
      kind: 'sent',
    });

    const seen = rotated.state.requests().map((entry) => entry.authorized);
    const firstWithNewKey = seen.indexOf(true);
    expect(firstWithNewKey).toBeGreaterThan(0);
    expect(seen.slice(firstWithNewKey).every(Boolean)).toBe(true);
    expect(rotated.state.acceptedMessages()).toHaveLength(2);
  });

  it('never writes a key or secret to the console, the logs or a response', () => {
    // The capture works: the refused old key was logged by the worker, as a reason without the key.
    expect(output.join('\n')).toMatch(/Interakt refused the API key/);
    expect(responses.length).toBeGreaterThan(5);
    for (const secret of SECRETS) {
      expect(output.filter((line) => line.includes(secret))).toEqual([]);
      expect(responses.filter((body) => body.includes(secret))).toEqual([]);
    }
  });
});
