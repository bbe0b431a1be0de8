/**
 * Opening an Infobip sync run: its window resolved once, at the start, and recorded with the run.
 * The API and the CLI open the run before they start its workflow (so they can answer with its
 * id); a scheduled run's workflow opens its own through an activity. Both land here, keyed by the
 * run key, so whoever comes second finds the run the first one opened.
 */
import type { Db } from '../db/client';
import {
  createInfobipSyncRun,
  getInfobipSyncRunByKey,
  getLastInfobipSyncSuccess,
  type InfobipSyncRun,
} from '../db/queries';
import { INFOBIP_LOGS_RETENTION_MS } from '../providers/infobip';
import type { InfobipSyncOptions, InfobipSyncTrigger } from './contract';

export const DEFAULT_INFOBIP_SYNC_SAFETY_MARGIN_MS = 15 * 60_000;
export const DEFAULT_INFOBIP_SYNC_INITIAL_LOOKBACK_MS = 24 * 60 * 60_000;
/** Logs are asked for a little inside their 48 h so a run that starts slowly is not refused. */
const LOGS_RETENTION_CUSHION_MS = 5 * 60_000;

/** The options a run was opened with, as recorded in InfobipSyncRuns.Options. */
export interface ResolvedInfobipSyncOptions extends InfobipSyncOptions {
  since: string;
  until: string;
  /** Where the SMS logs start (clamped to what Infobip keeps), or null when they are not read. */
  logsSince: string | null;
  /** The last successful run's end the window was derived from, if it was (a scheduled run: the last scheduled one). */
  lastSuccessAt: string | null;
  warnings: string[];
}

export class InfobipSyncWindowError extends Error {
  readonly code = 'invalid_window';
}

export interface OpenInfobipSyncRunParams {
  runKey: string;
  workflowId: string;
  trigger: InfobipSyncTrigger;
  scheduleId?: string | null;
  options: InfobipSyncOptions;
  now: Date;
}

/**
 * Finds the run recorded under `runKey`, or records a new one: the window is `since`..`until`,
 * `since` defaulting to the last successful run's end minus the safety margin (so nothing falls
 * between two runs; for a scheduled run, the last successful scheduled run) and `until` to now. Logs only reach back 48 h: an earlier start is clamped for
 * them, with a warning on the run. Throws InfobipSyncWindowError when the window is empty.
 */
export async function openInfobipSyncRun(
  db: Db,
  params: OpenInfobipSyncRunParams,
): Promise<{ run: InfobipSyncRun; created: boolean }> {
  const existing = await getInfobipSyncRunByKey(db, params.runKey);
  if (existing) return { run: existing, created: false };
  const { options, now } = params;
  // A scheduled run follows the schedule's own last success (see getLastInfobipSyncSuccess); a
  // manual run without `since` follows whichever run succeeded last.
  const lastSuccess =
    options.since === undefined
      ? await getLastInfobipSyncSuccess(db, params.trigger === 'schedule' ? { trigger: 'schedule' } : {})
      : null;
  const windowTo = options.until === undefined ? now : new Date(options.until);
  const margin = options.safetyMarginMs ?? DEFAULT_INFOBIP_SYNC_SAFETY_MARGIN_MS;
  const windowFrom =
    options.since !== undefined
      ? new Date(options.since)
      : new Date(
          lastSuccess
            ? lastSuccess.getTime() - margin
            : windowTo.getTime() - (options.initialLookbackMs ?? DEFAULT_INFOBIP_SYNC_INITIAL_LOOKBACK_MS),
        );
  if (Number.isNaN(windowFrom.getTime()) || Number.isNaN(windowTo.getTime()) || windowFrom >= windowTo) {
    throw new InfobipSyncWindowError(
      `the sync window is empty: since ${windowFrom.toISOString()} is not before until ${windowTo.toISOString()}`,
    );
  }

  const warnings: string[] = [];
  let logsSince: Date | null = null;
  if (options.source !== 'people') {
    const earliest = new Date(now.getTime() - INFOBIP_LOGS_RETENTION_MS + LOGS_RETENTION_CUSHION_MS);
    logsSince = windowFrom < earliest ? earliest : windowFrom;
    if (logsSince >= windowTo) {
      warnings.push(
        `SMS logs only reach back 48 hours: the window ends before ${earliest.toISOString()}, so no logs were read`,
      );
      logsSince = null;
    } else if (logsSince > windowFrom) {
      warnings.push(
        `SMS logs only reach back 48 hours: logs were read from ${logsSince.toISOString()}, not ${windowFrom.toISOString()}`,
      );
    }
  }

  const resolved: ResolvedInfobipSyncOptions = {
    ...options,
    since: windowFrom.toISOString(),
    until: windowTo.toISOString(),
    logsSince: logsSince?.toISOString() ?? null,
    lastSuccessAt: lastSuccess?.toISOString() ?? null,
    warnings,
  };
  return createInfobipSyncRun(db, {
    runKey: params.runKey,
    workflowId: params.workflowId,
    trigger: params.trigger,
    scheduleId: params.scheduleId ?? null,
    options: { ...resolved },
    dryRun: options.dryRun,
    windowFrom,
    windowTo,
    startedAt: now,
  });
}

/** The resolved options a run row carries (see openInfobipSyncRun). */
export const resolvedOptionsOf = (run: InfobipSyncRun): ResolvedInfobipSyncOptions =>
  run.options as unknown as ResolvedInfobipSyncOptions;
