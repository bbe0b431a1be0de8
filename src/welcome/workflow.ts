import { proxyActivities } from '@temporalio/workflow';
import type { WelcomeActivities } from './activities';
import type { WelcomeWorkflowInput } from './contract';
import type { StepOutcome } from '../messages/contract';
import { SEND_OPTIONS } from '../messages/contract';
import { SEND_PRIORITY } from '../shared';

/**
 * `welcome-<leadId>`: the welcome template for a lead just created, sent once. The only wait is
 * the send's own retries (provider down, rate limit, unknown outcome being reconciled); it ends
 * when the send is accepted, skipped (the lead opted out or is gone), or fails permanently, which
 * fails the run with the provider's reason (also recorded in the message log).
 */
export async function welcomeWorkflow(input: WelcomeWorkflowInput): Promise<StepOutcome> {
  const { sendWelcome } = proxyActivities<WelcomeActivities>({
    ...SEND_OPTIONS,
    taskQueue: input.sendTaskQueue,
    // The lead was just created: ahead of every drip and campaign send in the queue.
    priority: { priorityKey: SEND_PRIORITY.transactional },
  });
  const { sendTaskQueue: _queue, ...send } = input;
  return sendWelcome(send);
}
