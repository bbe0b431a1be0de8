/**
 * The closed sets of values some text columns hold, shared by both dialect schemas so the two
 * cannot drift. The database stores them as plain text; the TypeScript types come from here.
 */
import type { AssignmentStatus } from '../../shared';

export const ASSIGNMENT_STATUSES = ['pending', 'active', 'paused', 'completed', 'cancelled', 'failed'] as const satisfies readonly AssignmentStatus[];

export { ASSIGNMENT_EVENTS, type AssignmentEventKind } from '../../shared';

export const MESSAGE_DIRECTIONS = ['outgoing', 'incoming'] as const;
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number];

/** In lifecycle order: a status update may only move a message to the right (see applyMessageStatus). */
export const MESSAGE_STATUSES = ['pending', 'sending', 'sent', 'delivered', 'read', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const REFERENCE_TYPES = ['drip', 'welcome', 'cta', 'manual'] as const;
export type ReferenceType = (typeof REFERENCE_TYPES)[number];

export const HEADER_TYPES = ['none', 'text', 'document', 'image', 'video'] as const;
export type HeaderType = (typeof HEADER_TYPES)[number];

export const IVR_CALL_STATUSES = ['received', 'processed', 'skipped'] as const;
export type IvrCallStatus = (typeof IVR_CALL_STATUSES)[number];

export { CTA_ACTIONS, CTA_RUN_STATUSES, type CtaAction, type CtaRunStatus } from '../../shared';

/** `decided`: the click that made the decision; `repeat`: any later click on the same run. */
export const CTA_CLICK_RESULTS = ['decided', 'repeat'] as const;
export type CtaClickResult = (typeof CTA_CLICK_RESULTS)[number];

export const SYNC_RUN_STATUSES = ['running', 'completed', 'failed'] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];
