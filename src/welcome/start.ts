import { type Client } from '@temporalio/client';
import type { WelcomeWorkflowInput } from './contract';
import type { Lead } from '../db/queries';
import { FLOW_KIND, LEAD_ID } from '../shared';
import { welcomeWorkflowId } from './contract';
import type { InteraktOptions } from '../settings/provider-settings';
import type { welcomeWorkflow } from './workflow';
import { startClaimedWorkflow } from '../workflow-client';
import type { Logger } from '../logging/logger';

export interface WelcomeDeps {
  temporal: Client;
  taskQueue: string;
  sendTaskQueue: string;
  log: Logger;
}

export interface WelcomeStart {
  workflowId: string;
  status: 'started' | 'already_started' | 'start_failed';
}

/** Whether creating this lead should start a welcome, by the settings read for this request. */
export function wantsWelcome(
  options: InteraktOptions,
  lead: Pick<Lead, 'optedOut'>,
): options is InteraktOptions & { welcomeTemplateName: string } {
  return options.enabled && options.welcomeOnCreate && options.welcomeTemplateName !== null && !lead.optedOut;
}

/**
 * Starts `welcome-<leadId>` for a lead already committed. Only the start is awaited, never the
 * send: the start is one round trip to Temporal that makes the welcome durable before the API
 * answers (a fire-and-forget start dies with the API process and the welcome is silently lost),
 * while the send runs later on the rate-limited send queue. A start that fails does not fail the
 * request: the lead exists, and a retried POST would only meet 409; the answer says so instead.
 */
export async function startWelcomeWorkflow(
  deps: WelcomeDeps,
  lead: Pick<Lead, 'id'>,
  options: InteraktOptions & { welcomeTemplateName: string },
): Promise<WelcomeStart> {
  const workflowId = welcomeWorkflowId(lead.id);
  const input: WelcomeWorkflowInput = {
    leadId: lead.id,
    templateName: options.welcomeTemplateName,
    templateLanguage: options.welcomeTemplateLanguage,
    headerMediaUrl: options.welcomeHeaderMediaUrl ?? undefined,
    fileName: options.welcomeFileName ?? undefined,
    sendTaskQueue: deps.sendTaskQueue,
  };
  const outcome = await startClaimedWorkflow<typeof welcomeWorkflow>(
    deps.temporal,
    'welcomeWorkflow',
    {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: [
        { key: LEAD_ID, value: lead.id },
        { key: FLOW_KIND, value: 'welcome' },
      ],
    },
    // The lead row has no place for it: the log says why this lead got no welcome.
    async (reason) => deps.log.warn({ leadId: lead.id, reason }, 'welcome not started'),
  );
  return { workflowId, status: outcome.kind === 'failed' ? 'start_failed' : outcome.kind };
}
