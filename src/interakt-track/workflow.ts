import { proxyActivities } from '@temporalio/workflow';
import type { InteraktTrackActivities } from './activities';
import { INTERAKT_TRACK_REFUSED, type InteraktTrackInput, type InteraktTrackOutcome } from './contract';

/**
 * One call to Interakt's Track APIs, retried until Interakt takes it: an outage or a 429 is
 * retried with backoff (no sooner than Retry-After), a missing or refused key every few minutes
 * for up to two days (an admin may fix it), a refused request not at all. Ends when the call is
 * made or given up; the lead write that asked for it never waits on it.
 */
const { trackInteraktUser, trackInteraktEvent } = proxyActivities<InteraktTrackActivities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '2 days',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    nonRetryableErrorTypes: [INTERAKT_TRACK_REFUSED],
  },
});

export async function interaktTrackWorkflow(input: InteraktTrackInput): Promise<InteraktTrackOutcome> {
  return input.kind === 'user'
    ? await trackInteraktUser({ leadId: input.leadId })
    : await trackInteraktEvent({ leadId: input.leadId, event: input.event, traits: input.traits });
}
