/**
 * The closed sets of values some text columns hold, shared by both dialect schemas so the two
 * cannot drift. The database stores them as plain text; the TypeScript types come from here.
 * Pure values: the features' contracts (and so workflow code) re-export them.
 */

export const ASSIGNMENT_STATUSES = ['pending', 'active', 'paused', 'completed', 'cancelled', 'failed'] as const;
export type AssignmentStatus = (typeof ASSIGNMENT_STATUSES)[number];
/** An assignment that has not ended: its workflow is (or is about to be) running. */
export const ACTIVE_ASSIGNMENT_STATUSES: readonly AssignmentStatus[] = ['pending', 'active', 'paused'];

/** What LeadDripAssignment's step history records. */
export const ASSIGNMENT_EVENTS = [
  'started',
  'step_sent',
  'step_failed',
  'step_skipped',
  'paused',
  'resumed',
  'cancelled',
  'completed',
  'failed',
  /** The next send waits for the lead's send window or a free slot of the frequency cap. */
  'deferred',
  /** Send now, snooze or move (the drip's reschedule update). */
  'rescheduled',
  /** A failed step retried from the API. */
  'retried',
] as const;
export type AssignmentEventKind = (typeof ASSIGNMENT_EVENTS)[number];

/** What an API key (and its console sessions) may do: `admin` everything, `agent` the day-to-day work. */
export const ROLES = ['admin', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export const MESSAGE_DIRECTIONS = ['outgoing', 'incoming'] as const;
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number];

/** In lifecycle order: a status update may only move a message to the right (see applyMessageStatus). */
export const MESSAGE_STATUSES = ['pending', 'sending', 'sent', 'delivered', 'read', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const REFERENCE_TYPES = ['drip', 'welcome', 'cta', 'manual', 'campaign', 'keyword_reply'] as const;
export type ReferenceType = (typeof REFERENCE_TYPES)[number];

export const HEADER_TYPES = ['none', 'text', 'document', 'image', 'video'] as const;
export type HeaderType = (typeof HEADER_TYPES)[number];

export const IVR_CALL_STATUSES = ['received', 'processed', 'skipped'] as const;
export type IvrCallStatus = (typeof IVR_CALL_STATUSES)[number];

/** What a lead can answer with the two buttons. */
export const CTA_ACTIONS = ['interested', 'not_interested'] as const;
export type CtaAction = (typeof CTA_ACTIONS)[number];

/** A CTA run's life: sent, perhaps reminded, then closed by a decision, no response, a stop or a failure. */
export const CTA_RUN_STATUSES = [
  'pending',
  'sent',
  'reminded',
  'interested',
  'not_interested',
  'no_response',
  'stopped',
  'failed',
] as const;
export type CtaRunStatus = (typeof CTA_RUN_STATUSES)[number];

/** `decided`: the click that made the decision; `repeat`: any later click on the same run. */
export const CTA_CLICK_RESULTS = ['decided', 'repeat'] as const;
export type CtaClickResult = (typeof CTA_CLICK_RESULTS)[number];

export const SYNC_RUN_STATUSES = ['running', 'completed', 'failed'] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];

/** Which of Infobip's lists a run reads: the People API, the SMS logs, or both (people first). */
export const INFOBIP_SYNC_SOURCES = ['people', 'logs', 'both'] as const;
export type InfobipSyncSource = (typeof INFOBIP_SYNC_SOURCES)[number];
/** One list as its pages are recorded (InfobipSyncPages.Source). */
export type InfobipPageSource = Exclude<InfobipSyncSource, 'both'>;

/** `update_only` never creates a lead: people not already in the CRM are skipped. */
export const INFOBIP_SYNC_MODES = ['create_update', 'update_only'] as const;
export type InfobipSyncMode = (typeof INFOBIP_SYNC_MODES)[number];

export type InfobipSyncTrigger = 'api' | 'cli' | 'schedule';

/** Moves a matched (or created) lead to `setStatus`, only from one of `onlyIfStatusIn` when given. */
export interface InfobipStatusRule {
  setStatus: string;
  onlyIfStatusIn?: string[];
}

export interface InfobipSyncCounts {
  fetched: number;
  matched: number;
  created: number;
  updated: number;
  skipped: number;
  invalid: number;
  errorCount: number;
}

/** What a custom field definition says a lead's value must be. */
export const CUSTOM_FIELD_TYPES = ['text', 'number', 'boolean', 'date', 'enum'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

/** A campaign's life: draft → scheduled → running ⇄ paused → completed | cancelled (or failed). */
export const CAMPAIGN_STATUSES = [
  'draft',
  'scheduled',
  'running',
  'paused',
  'completed',
  'cancelled',
  'failed',
] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
/** A campaign whose workflow has not ended. */
export const LIVE_CAMPAIGN_STATUSES: readonly CampaignStatus[] = ['scheduled', 'running', 'paused'];

/** One recipient of one campaign: waiting, or settled as sent, failed or skipped (with a reason). */
export const CAMPAIGN_RECIPIENT_STATUSES = ['pending', 'sent', 'failed', 'skipped'] as const;
export type CampaignRecipientStatus = (typeof CAMPAIGN_RECIPIENT_STATUSES)[number];

/** Whether a failed send may be tried again: `permanent` (the provider refused it for good) or not. */
export const FAILURE_KINDS = ['permanent', 'transient'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** The outcomes a finished campaign can be retargeted by. */
export const CAMPAIGN_OUTCOMES = ['not_delivered', 'delivered_not_read', 'read_not_replied', 'failed'] as const;
export type CampaignOutcome = (typeof CAMPAIGN_OUTCOMES)[number];

// ---------------------------------------------------------------------------------------------
// Send rules (DripSequence.SendRules; the functions that read them are in src/delivery/contract.ts).

/** ISO weekdays: 1 = Monday … 7 = Sunday. */
export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Hours of the lead's day a message may go in, e.g. Mon–Sat 09:00–20:00. */
export interface SendWindow {
  days: IsoWeekday[];
  /** `HH:MM`, local; the window opens at this minute. */
  start: string;
  /** `HH:MM`, local, after `start`; the window closes at this minute (exclusive). */
  end: string;
}

/** What a sequence may set for itself (DripSequence.SendRules); what it leaves out, the account's defaults give. */
export interface SequenceSendRules {
  /** null: any time of day; absent: the account's window. */
  window?: SendWindow | null;
  /** Added to the account's quiet days. */
  quietDates?: string[];
  /** The drip ends when the lead's status or stage becomes one of these (e.g. `Won`, `Lost`). */
  exitStatuses?: string[];
  /** The drip ends when the lead answers a CTA flow. */
  exitOnCtaAnswer?: boolean;
  /** Transactional: sent whatever the window, not counted against or held by the frequency cap. */
  transactional?: boolean;
}
