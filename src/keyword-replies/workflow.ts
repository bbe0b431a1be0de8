import { proxyActivities } from '@temporalio/workflow';
import type { KeywordReplyActivities } from './activities';
import type { KeywordReplyWorkflowInput } from './contract';
import type { StepOutcome } from '../messages/contract';
import { SEND_OPTIONS } from '../messages/contract';
import { SEND_PRIORITY } from '../shared';

/**
 * `keyword-reply-<inboundMessageId>`: the template confirming a lead's STOP (or START), sent once.
 * The only wait is the send's own retries (provider down, rate limit, unknown outcome being
 * reconciled); it ends when the send is accepted, skipped (the lead is gone, or opted out again
 * before an opt-in confirmation went), or fails permanently, which fails the run with the reason
 * (also recorded in the message log).
 */
export async function keywordReplyWorkflow(input: KeywordReplyWorkflowInput): Promise<StepOutcome> {
  const { sendKeywordReply } = proxyActivities<KeywordReplyActivities>({
    ...SEND_OPTIONS,
    taskQueue: input.sendTaskQueue,
    // The lead is waiting for the answer to what they just wrote: ahead of drips and campaigns.
    priority: { priorityKey: SEND_PRIORITY.transactional },
  });
  const { sendTaskQueue: _queue, ...send } = input;
  return sendKeywordReply(send);
}
