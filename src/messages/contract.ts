/**
 * The send's contract: the retry policy every workflow gives its send activities, and what a send
 * reports back. Pure values: safe inside the sandbox.
 */
import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Sends retry until they succeed or fail permanently: a message is never dropped because the
 * provider was down for an hour. Two days without success fails the step with its last error.
 * `PermanentSendError` (validation, invalid number, unknown template) is never retried.
 */
export const SEND_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '2 days',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    nonRetryableErrorTypes: ['PermanentSendError'],
  },
};

/** What the send activity reports back for one step. */
export type StepOutcome =
  | { kind: 'sent'; messageId: number; providerMessageId: string }
  | { kind: 'skipped'; reason: 'opted_out' | 'suppressed' | 'lead_not_found' | 'exit_status' }
  /** The lead has had the frequency cap's worth of marketing: nothing sent, a slot frees at `freeAt` (ISO). */
  | { kind: 'capped'; freeAt: string };
