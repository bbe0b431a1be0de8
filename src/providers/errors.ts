/**
 * Provider failures, split by what a retry can achieve. The send activity maps them to Temporal:
 * permanent -> non-retryable ApplicationFailure; everything else is retried, honouring
 * `retryAfterMs` as the next retry delay.
 */
export type ProviderErrorKind =
  /** Network error, 5xx, 429: the same request may succeed later. */
  | 'retryable'
  /** Validation, unknown template, invalid number: it never will. */
  | 'permanent'
  /** Bad or missing credentials, plan without API access: retried slowly until an admin fixes it. */
  | 'config'
  /** No answer in time: the provider may or may not have accepted the message. */
  | 'ambiguous';

export interface ProviderErrorDetails {
  httpStatus?: number;
  retryAfterMs?: number;
  /**
   * The provider held the message back because this user has had enough marketing for now (Meta
   * 131049): hours later it may pass. The send activity retries it after the account's
   * `marketingLimitRetryMinutes` rather than `retryAfterMs`, or not at all when that is off.
   */
  marketingLimit?: boolean;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';

  constructor(
    readonly kind: ProviderErrorKind,
    /** Short machine code, e.g. `http_503`, `rate_limited`, `invalid_template`, `timeout`. */
    readonly code: string,
    message: string,
    readonly details: ProviderErrorDetails = {},
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.kind !== 'permanent';
  }
}

export const isProviderError = (error: unknown): error is ProviderError => error instanceof ProviderError;
