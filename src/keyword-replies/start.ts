import type { Client } from '@temporalio/client';
import type { KeywordReplyTemplate } from '../delivery/settings';
import type { Logger } from '../logging/logger';
import { FLOW_KIND, LEAD_ID } from '../shared';
import { startClaimedWorkflow, type StartOutcome } from '../workflow-client';
import { keywordReplyWorkflowId, type KeywordReplyKind, type KeywordReplyWorkflowInput } from './contract';
import type { keywordReplyWorkflow } from './workflow';

export interface KeywordReplyDeps {
  temporal: Client;
  taskQueue: string;
  sendTaskQueue: string;
  log: Logger;
}

export interface KeywordReplyRequest {
  leadId: number;
  /** Our id of the stored inbound message that carried the keyword. */
  inboundMessageId: number;
  keyword: KeywordReplyKind;
  template: KeywordReplyTemplate;
}

/**
 * Starts `keyword-reply-<inboundMessageId>` for a keyword already applied to the lead. Called on
 * every delivery of the webhook that carried the keyword: a redelivery meets the same workflow id
 * (`already_started` while it runs) or, after it ended, a new run whose send finds the first in
 * the message log, so the lead gets one confirmation however often the provider redelivers. A
 * failed start is logged and returned for the webhook to fail, so the provider's redelivery is the
 * retry.
 */
export async function startKeywordReply(deps: KeywordReplyDeps, request: KeywordReplyRequest): Promise<StartOutcome> {
  const workflowId = keywordReplyWorkflowId(request.inboundMessageId);
  const input: KeywordReplyWorkflowInput = {
    leadId: request.leadId,
    inboundMessageId: request.inboundMessageId,
    keyword: request.keyword,
    templateName: request.template.templateName,
    templateLanguage: request.template.templateLanguage,
    sendTaskQueue: deps.sendTaskQueue,
  };
  return startClaimedWorkflow<typeof keywordReplyWorkflow>(
    deps.temporal,
    'keywordReplyWorkflow',
    {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: [
        { key: LEAD_ID, value: request.leadId },
        { key: FLOW_KIND, value: 'keyword-reply' },
      ],
    },
    async (reason) => deps.log.warn({ leadId: request.leadId, workflowId, reason }, 'keyword reply not started'),
  );
}
