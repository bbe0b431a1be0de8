/**
 * Template approval statuses as Message Master stores them. Providers spell them differently
 * (Interakt and Meta: `APPROVED`, `IN_APPEAL`; Infobip adds `FIRST_PAUSED`, `PENDING_DELETION`…),
 * so every writer (the API, the sync from a provider) stores `normaliseApprovalStatus(raw)`: the
 * one mapping below. A value we do not know is kept verbatim, so nothing a provider says is lost,
 * and it is never sendable: only `Approved` is.
 */

export const APPROVAL_STATUSES = [
  'Approved',
  'Pending',
  'Rejected',
  'Paused',
  'Disabled',
  'InAppeal',
  'PendingDeletion',
  'Deleted',
  'Flagged',
  'Reinstated',
  'LimitExceeded',
] as const;
export type KnownApprovalStatus = (typeof APPROVAL_STATUSES)[number];
/** A known status, or a provider's value we do not know, verbatim. */
export type ApprovalStatus = KnownApprovalStatus | (string & {});

/** Provider spellings → the stored status. */
const PROVIDER_VALUES: Readonly<Record<string, KnownApprovalStatus>> = {
  APPROVED: 'Approved',
  PENDING: 'Pending',
  SUBMITTED: 'Pending',
  IN_REVIEW: 'Pending',
  REJECTED: 'Rejected',
  PAUSED: 'Paused',
  // Infobip reports Meta's two pause stages separately; both mean "not sendable for now".
  FIRST_PAUSED: 'Paused',
  SECOND_PAUSED: 'Paused',
  DISABLED: 'Disabled',
  IN_APPEAL: 'InAppeal',
  PENDING_DELETION: 'PendingDeletion',
  DELETED: 'Deleted',
  FLAGGED: 'Flagged',
  // Meta sends REINSTATED as an event and then reports the template APPROVED again; until a
  // sync says APPROVED we do not treat it as sendable.
  REINSTATED: 'Reinstated',
  LIMIT_EXCEEDED: 'LimitExceeded',
};

/** Looked up without separators, so `IN_APPEAL`, `In Appeal` and our own `InAppeal` all match. */
const BY_SQUASHED_VALUE = new Map(
  Object.entries(PROVIDER_VALUES).map(([value, status]) => [value.replace(/_/g, ''), status]),
);

/** `APPROVED`, `approved`, `In Appeal`, `IN_APPEAL`, `InAppeal` → the stored status; unknown values verbatim (trimmed). */
export function normaliseApprovalStatus(raw: string): ApprovalStatus {
  const trimmed = raw.trim();
  return BY_SQUASHED_VALUE.get(trimmed.replace(/[\s_-]+/g, '').toUpperCase()) ?? trimmed;
}

/** Only an approved template may be sent. */
export const isSendableStatus = (status: string): boolean => status === 'Approved';
