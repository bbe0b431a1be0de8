import { getLead } from '../db/queries';
import { sendIdempotencyKey } from '../shared';
import type { StepOutcome } from '../messages/contract';
import { sendTemplateMessage, type SendDeps } from '../messages/send';
import { resolveTemplateValues } from '../messages/variables';
import { keywordReplyWorkflowId, type KeywordReplyWorkflowInput } from './contract';
import { keywordReplyVariables } from './template';

export type SendKeywordReplyInput = Omit<KeywordReplyWorkflowInput, 'sendTaskQueue'>;

export function createKeywordReplyActivities(deps: SendDeps) {
  return {
    /**
     * Sends the confirmation of one inbound keyword, at most once: the idempotency key is
     * `keyword-reply-<inboundMessageId>:0` whichever run asks. The opt-out confirmation is the one
     * message that goes to a lead who has opted out (it is the answer to their STOP); every other
     * send path still skips them. An opt-in confirmation is skipped if the lead opted out again
     * before it went.
     */
    async sendKeywordReply(input: SendKeywordReplyInput): Promise<StepOutcome> {
      const lead = await getLead(deps.db, input.leadId);
      if (!lead) return { kind: 'skipped', reason: 'lead_not_found' };
      if (input.keyword === 'opt_in' && lead.optedOut) return { kind: 'skipped', reason: 'opted_out' };

      const workflowId = keywordReplyWorkflowId(input.inboundMessageId);
      const variables = await keywordReplyVariables(deps.db, input);
      // Checked against Message Master like every send: an unknown or unapproved template is a
      // permanent failure on record (template_not_usable), never a send.
      const result = await sendTemplateMessage(deps, {
        idempotencyKey: sendIdempotencyKey(workflowId, 0),
        leadId: lead.id,
        phone: lead.phone,
        message: {
          templateName: input.templateName,
          languageCode: input.templateLanguage,
          ...resolveTemplateValues(lead, variables),
        },
        referenceType: 'keyword_reply',
        referenceId: String(input.inboundMessageId),
        workflowId,
        stepIndex: 0,
      });
      return { kind: 'sent', ...result };
    },
  };
}

export type KeywordReplyActivities = ReturnType<typeof createKeywordReplyActivities>;
