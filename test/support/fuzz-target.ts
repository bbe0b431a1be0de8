/**
 * A running API for schemathesis to attack: the real app on a real Temporal dev server and a
 * SQLite file seeded with something of everything (templates, leads, a sequence with a running
 * assignment, a CTA flow, IVR calls, a message), so generated requests reach code past the
 * "not found" checks. No worker runs: workflows started by the fuzzer simply wait.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import { createSecretBox } from '../../src/settings/secret-box';
import type { Db } from '../../src/db/client';
import {
  claimOutgoingMessage,
  createApiKey,
  createCampaign,
  createCtaFlow,
  createCustomFieldDefinition,
  createLead,
  createSegment,
  createSequence,
} from '../../src/db/queries';
import { sendTaskQueue } from '../../src/shared';
import { createWebhookPipeline } from '../../src/webhooks/queue';
import { listen, type RunningApp } from './api';
import { createTestDb } from './db';
import { createDevServerEnv, uniqueTaskQueue } from './temporal';
import { seedTemplates } from './templates';
import { captureLogs, type LogLine } from './logs';

export interface FuzzTarget {
  url: string;
  apiKey: string;
  /** What the API logged at warn and above (an unexpected error is logged before its 500). */
  logged: () => LogLine[];
  close(): Promise<void>;
}

export async function startFuzzTarget(): Promise<FuzzTarget> {
  const env: TestWorkflowEnvironment = await createDevServerEnv();
  const db: Db = await createTestDb();
  const logs = captureLogs('warn');
  const log = logs.logger;
  const pipeline = createWebhookPipeline(db, { log });
  const taskQueue = uniqueTaskQueue('fuzz');
  await seed(db);
  const { key, keyHash, keyPrefix } = generateApiKey();
  await createApiKey(db, { name: 'fuzz', keyHash, keyPrefix });
  let api: RunningApp | undefined;
  try {
    api = await listen(
      createApp({
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        defaultCountry: 'IN',
        interaktWebhookSecret: 'fuzz-webhook-secret',
        metaAppSecret: 'fuzz-meta-secret',
        metaVerifyToken: 'fuzz-verify-token',
        infobipWebhookUsername: 'fuzz',
        infobipWebhookPassword: 'fuzz-password',
        secretBox: createSecretBox(Buffer.alloc(32, 7).toString('base64')),
        webhookPipeline: pipeline,
        log,
      }),
    );
  } catch (error) {
    await db.close();
    await env.teardown();
    throw error;
  }
  const running = api;
  return {
    url: running.url,
    apiKey: key,
    logged: logs.lines,
    close: async () => {
      await running.close();
      await pipeline.close();
      await db.close();
      await env.teardown();
    },
  };
}

async function seed(db: Db): Promise<void> {
  await seedTemplates(db);
  const lead = await createLead(db, { name: 'Asha Rao', phone: '+919800001001', customFields: { city: 'Pune' } });
  await createLead(db, { name: 'Ravi Iyer', phone: '+919800001002' });
  await createSequence(db, {
    name: 'Fuzz drip',
    steps: [
      {
        templateName: 'drip_day_1',
        templateLanguage: 'en',
        delaySeconds: 3600,
        variables: { body: [{ field: 'name' }] },
      },
    ],
  });
  await createCtaFlow(db, {
    name: 'Fuzz flow',
    templateName: 'project_update_template',
    templateLanguage: 'en',
    projectName: 'Palm Grove',
    bodyVariables: [{ field: 'name' }, { value: 'Palm Grove' }],
    interestedButtonIndex: 0,
    notInterestedButtonIndex: 1,
    reminderAfterSeconds: 3600,
    closeAfterSeconds: 7200,
    tokenTtlSeconds: 86_400,
    brochureTemplateName: 'project_brochure',
    brochureTemplateLanguage: 'en',
    brochureUrl: null,
    brochureFileName: null,
    followUpCallAfterSeconds: 3600,
    ivrNumber: '+918000000001',
  });
  // Segments, campaigns and custom fields exist, so their routes are fuzzed with ids that resolve.
  await createCustomFieldDefinition(db, { name: 'city', type: 'text', description: 'Where the lead lives' });
  const segment = await createSegment(db, { name: 'Fuzz segment', filter: { statuses: ['New'] } });
  await createCampaign(db, {
    name: 'Fuzz campaign',
    templateName: 'drip_day_1',
    templateLanguage: 'en',
    variables: { body: [{ field: 'name' }] },
    segmentId: segment.id,
  });
  await createCampaign(db, {
    name: 'Fuzz list campaign',
    templateName: 'drip_day_1',
    templateLanguage: 'en',
    variables: { body: [{ field: 'name' }] },
    leadIds: [lead.id],
  });
  await claimOutgoingMessage(db, {
    idempotencyKey: 'fuzz-message',
    leadId: lead.id,
    phone: lead.phone,
    provider: 'interakt',
    templateName: 'drip_day_1',
    templateLanguage: 'en',
    messageContent: { body: ['Asha'] },
    referenceType: 'manual',
    referenceId: null,
    workflowId: null,
    stepIndex: null,
    callbackData: 'fuzz-message',
  });
}
