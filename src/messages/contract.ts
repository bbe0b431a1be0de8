/** Activity-option presets shared by the workflows (pure values: safe inside the sandbox). */
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
