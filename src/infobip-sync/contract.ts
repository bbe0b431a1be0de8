/**
 * The Infobip sync run's contract: its workflow id, sources, modes, options, counts and the
 * progress query. Shared by the API, the CLI, the worker, the workflow and the tests;
 * workflow-safe.
 */
import { defineQuery } from '@temporalio/workflow';
import type {
  InfobipPageSource,
  InfobipStatusRule,
  InfobipSyncCounts,
  InfobipSyncMode,
  InfobipSyncSource,
  InfobipSyncTrigger,
} from '../db/schema/values';

export {
  INFOBIP_SYNC_MODES,
  INFOBIP_SYNC_SOURCES,
  type InfobipPageSource,
  type InfobipStatusRule,
  type InfobipSyncCounts,
  type InfobipSyncMode,
  type InfobipSyncSource,
  type InfobipSyncTrigger,
} from '../db/schema/values';

export const infobipSyncWorkflowId = (runId: string): string => `infobip-sync-${runId}`;

export interface InfobipSyncOptions {
  /**
   * ISO start of the contact window. Absent: the end of the last successful run (a scheduled run:
   * the last successful scheduled run) minus `safetyMarginMs`, or `initialLookbackMs` back when
   * there was none.
   */
  since?: string;
  /** ISO end of the window; absent: when the run starts. */
  until?: string;
  /** Infobip channel names (`whatsapp`, `sms`, ...) the People API filters on; absent: all. */
  channels?: string[];
  source: InfobipSyncSource;
  mode: InfobipSyncMode;
  /** Computes and records every decision, writes nothing to leads. */
  dryRun: boolean;
  statusRule?: InfobipStatusRule;
  /** Records per request (Infobip allows up to 1,000). */
  pageSize?: number;
  safetyMarginMs?: number;
  initialLookbackMs?: number;
}

export interface InfobipSyncWorkflowInput {
  trigger: InfobipSyncTrigger;
  options: InfobipSyncOptions;
  /** The Temporal Schedule that started the run, if any. */
  scheduleId?: string;
  /** Pages per activity call: the workflow's progress moves after each call. */
  pagesPerChunk?: number;
}

export type InfobipSyncRunState = 'starting' | 'running' | 'completed' | 'failed';

export interface InfobipSyncProgress {
  runKey: string;
  runId: number | null;
  status: InfobipSyncRunState;
  /** ISO bounds of the window, once resolved. */
  windowFrom: string | null;
  windowTo: string | null;
  /** The list being read and its next page; null when not reading. */
  position: { source: InfobipPageSource; pageNo: number } | null;
  /** Pages recorded so far over every source. */
  pagesDone: number;
  counts: InfobipSyncCounts;
  warnings: string[];
  failure: string | null;
}

/** The run key inside a workflow id: `infobip-sync-<runKey>` (a scheduled run's key ends in its time). */
export const infobipSyncRunKey = (workflowId: string): string => workflowId.replace(/^infobip-sync-/, '');

export const infobipSyncProgressQuery = defineQuery<InfobipSyncProgress>('infobipSyncProgress');
