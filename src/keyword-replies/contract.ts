/** The keyword reply's contract: its id and what it is started with; workflow-safe. */
import type { KeywordReplyTemplate } from '../delivery/settings';

/**
 * One confirmation per inbound keyword message, keyed by our id of the stored inbound row: a
 * provider's redelivery of the same message finds the same row, so the same workflow and send key.
 */
export const keywordReplyWorkflowId = (inboundMessageId: number): string => `keyword-reply-${inboundMessageId}`;

export type KeywordReplyKind = 'opt_out' | 'opt_in';

/** What `keyword-reply-<inboundMessageId>` is started with: the template as the settings named it then. */
export interface KeywordReplyWorkflowInput extends KeywordReplyTemplate {
  leadId: number;
  inboundMessageId: number;
  keyword: KeywordReplyKind;
  sendTaskQueue: string;
}
