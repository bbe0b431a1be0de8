/**
 * Mirroring leads to Interakt (its Track APIs): a lead's mapped traits on create and update, and
 * drip, CTA and campaign milestones as events on the customer's timeline. Each call is one small
 * workflow, `interakt-user-<leadId>-<updatedAtMs>` or `interakt-event-<key>`, started once per id
 * (a second start of the same id is refused), whose activity retries until Interakt answers.
 */

/** A trait's or an event property's value, as Interakt takes it. */
export type TrackTraitValue = string | number | boolean | null;

export type InteraktTrackInput =
  | { kind: 'user'; leadId: number }
  | { kind: 'event'; leadId: number; event: string; traits: Record<string, TrackTraitValue> };

/** What a track call came to: sent, or why nothing was sent. */
export type InteraktTrackOutcome = 'sent' | 'disabled' | 'lead_not_found';

/** Failure type of a call Interakt refused (a 4xx other than 401/429): a retry gets the same answer. */
export const INTERAKT_TRACK_REFUSED = 'InteraktTrackRefused';

export const interaktUserWorkflowId = (leadId: number, updatedAtMs: number): string =>
  `interakt-user-${leadId}-${updatedAtMs}`;
export const interaktEventWorkflowId = (key: string): string => `interakt-event-${key}`;

/** The events Dripline sends, by milestone (the names Interakt shows on the timeline). */
export const MILESTONE_EVENTS = {
  dripStarted: 'Drip started',
  dripStepSent: 'Drip step sent',
  dripCompleted: 'Drip completed',
  dripStopped: 'Drip stopped',
  ctaSent: 'CTA message sent',
  ctaAnswered: 'CTA answered',
  ctaNoResponse: 'CTA no response',
  /** A campaign's template accepted for the lead (once per campaign and lead). */
  campaignSent: 'Campaign message sent',
} as const;

export type MilestoneEvent = (typeof MILESTONE_EVENTS)[keyof typeof MILESTONE_EVENTS];

/** A milestone a feature reached for a lead; `key` makes it once-only (e.g. `drip-12-completed`). */
export interface Milestone {
  leadId: number;
  event: MilestoneEvent;
  key: string;
  traits: Record<string, TrackTraitValue>;
}

/**
 * Where features report milestones: the worker wires it to Interakt when tracking is on. It never
 * throws (a milestone must never fail or repeat the work it reports), and it returns once the
 * event's workflow is durably started.
 */
export type MilestoneSink = (milestone: Milestone) => Promise<void>;
