/**
 * The campaign's contract: its workflow id and send keys, what it is started with, its signals and
 * its progress query. Shared by the API, the worker, the workflow and the tests; workflow-safe.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { sendIdempotencyKey, type TemplateVariables } from '../shared';
import type { CampaignStatus } from '../db/schema/values';
export {
  CAMPAIGN_OUTCOMES,
  CAMPAIGN_STATUSES,
  LIVE_CAMPAIGN_STATUSES,
  type CampaignOutcome,
  type CampaignStatus,
} from '../db/schema/values';

export const campaignWorkflowId = (campaignId: number): string => `campaign-${campaignId}`;

/** One send per lead and campaign, whatever retries, crashes or retry runs come: `campaign-<id>:<leadId>`. */
export const campaignSendKey = (campaignId: number, leadId: number): string =>
  sendIdempotencyKey(campaignWorkflowId(campaignId), leadId);

export interface CampaignTemplate {
  templateName: string;
  templateLanguage: string;
  variables: TemplateVariables;
}

export interface CampaignWorkflowInput {
  campaignId: number;
  template: CampaignTemplate;
  sendTaskQueue: string;
  /** ISO time to start sending at; absent or past: at once. */
  scheduledAt?: string | null;
  /** Recipients read per page of the cursor. */
  pageSize: number;
  /**
   * Sends handed to the send queue at once. The queue's rate limit paces them; this only keeps
   * enough waiting there that the rate is reached, and bounds what a pause has to take back.
   */
  maxInFlight: number;
  /** Attempts of one send before its recipient is recorded as failed (transient: a retry may send it). */
  sendMaxAttempts: number;
  /** The sends' task priority; by default SEND_PRIORITY.campaign (bench:campaign's baseline sets another). */
  sendPriorityKey?: number;
  /** Set only by continue-as-new: where the previous run stopped. */
  carry?: CampaignCarry;
}

export interface CampaignCarry {
  /** Recipient id the cursor has passed; only pending recipients after it are read. */
  cursor: number;
  paused: boolean;
}

export interface CampaignProgress {
  campaignId: number;
  status: CampaignStatus;
  /** Sends settled by this workflow run (a retry run or continue-as-new starts again at zero). */
  settledThisRun: number;
  /** Sends settled over the last minute. */
  ratePerMinute: number;
  inFlight: number;
  stopReason: string | null;
}

/** What one recipient's send came to. */
export type RecipientOutcome =
  | { kind: 'sent'; messageId: number }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; permanent: boolean; code: string | null };

export interface CancelCampaignArgs {
  reason: string;
}

export const pauseCampaignSignal = defineSignal('pauseCampaign');
export const resumeCampaignSignal = defineSignal('resumeCampaign');
export const cancelCampaignSignal = defineSignal<[CancelCampaignArgs]>('cancelCampaign');
export const campaignProgressQuery = defineQuery<CampaignProgress>('campaignProgress');
