/**
 * How an activity that only reads from a provider (a template list, Infobip's people and logs)
 * turns the provider's error into the Temporal failure that decides the retry: a bad key or a
 * refused request fails at once, non-retryable, under the caller's own failure types (the run
 * records the reason; the next scheduled run tries again, after an admin had a chance to fix it);
 * an outage or a 429 is retried, a 429 no sooner than Retry-After. A read changes nothing
 * upstream, so an ambiguous answer is just a retry. Anything else (the database) is returned as
 * it is, for the activity's default retries.
 */
import { ApplicationFailure } from '@temporalio/common';
import { isProviderError } from './providers/errors';

export interface ReadFailureTypes {
  /** The key is missing or refused. */
  config: string;
  /** The provider refused the request itself. */
  permanent: string;
}

export function providerReadFailure(error: unknown, types: ReadFailureTypes): unknown {
  if (!isProviderError(error)) return error;
  switch (error.kind) {
    case 'config':
    case 'permanent':
      return ApplicationFailure.create({
        type: types[error.kind],
        message: error.message,
        nonRetryable: true,
        details: [{ code: error.code }],
      });
    case 'retryable':
    case 'ambiguous':
      return ApplicationFailure.create({
        type: 'ProviderUnavailable',
        message: error.message,
        nextRetryDelay: error.details.retryAfterMs,
      });
  }
}
