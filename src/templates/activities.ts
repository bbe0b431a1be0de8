import { activityInfo, ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { Db } from '../db/client';
import {
  createTemplateSyncRun,
  findTemplateSyncRunByStart,
  finishTemplateSyncRun,
  getTemplateSyncRun,
  markTemplatesRemovedUpstream,
  MAX_RECORDED_SYNC_ERRORS,
  recordTemplateSyncProgress,
  upsertSyncedTemplate,
  type TemplateKey,
  type TemplateSyncCounts,
  type TemplateSyncError,
  type TemplateSyncRunStatus,
  type TemplateSyncTrigger,
} from '../db/queries';
import { providerReadFailure } from '../provider-failures';
import { parseInteraktTemplate, type InteraktTemplateClient } from '../providers/interakt-templates';
import type { ProviderName } from '../shared';

const PROVIDER: ProviderName = 'interakt';

/** Failure types the workflow must not retry: a retry would get the same answer. */
export const TEMPLATE_SYNC_REFUSED = 'TemplateSyncRefused';
export const TEMPLATE_SYNC_CONFIG_ERROR = 'ProviderConfigError';
export const TEMPLATE_SYNC_RUN_NOT_FOUND = 'TemplateSyncRunNotFound';

export interface TemplateSyncActivityDeps {
  db: Db;
  /** Asked once per sync attempt, so a rotated API key or base URL is used by the next sync. */
  getInteraktTemplateClient: () => InteraktTemplateClient | Promise<InteraktTemplateClient>;
  now?: () => Date;
}

export interface StartTemplateSyncRunInput {
  trigger: TemplateSyncTrigger;
  /** The workflow's start time (epoch ms): with provider and trigger, it names the run, so a retry finds its row. */
  startedAtMs: number;
}

export interface SyncInteraktTemplatesInput {
  runId: number;
}

export interface FailTemplateSyncRunInput {
  runId: number;
  message: string;
}

export interface TemplateSyncSummary extends TemplateSyncCounts {
  runId: number;
  status: TemplateSyncRunStatus;
}

/** What a heartbeat carries, so a retried attempt resumes at the page after the last one done. */
interface SyncCheckpoint {
  offset: number;
  seen: Array<[name: string, language: string]>;
  counts: TemplateSyncCounts;
  errors: TemplateSyncError[];
}

const emptyCounts = (): TemplateSyncCounts => ({
  fetched: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  removed: 0,
  errorCount: 0,
});

export function createTemplateSyncActivities(deps: TemplateSyncActivityDeps) {
  const now = deps.now ?? (() => new Date());

  return {
    /** Creates the TemplateSyncRuns row of a run nobody created beforehand (a scheduled one). Idempotent. */
    async startTemplateSyncRun({ trigger, startedAtMs }: StartTemplateSyncRunInput): Promise<number> {
      const key = { provider: PROVIDER, trigger, startedAt: new Date(startedAtMs) };
      const existing = await findTemplateSyncRunByStart(deps.db, key);
      return (existing ?? (await createTemplateSyncRun(deps.db, key))).id;
    },

    /**
     * One full pass over Interakt's template list: every row is parsed and upserted by name +
     * language, a row that cannot be parsed is counted and recorded without stopping the pass,
     * and only when the last page has been read are the templates it did not list marked removed.
     * A failed pass marks nothing. Heartbeats after each page; a retry resumes from there.
     */
    async syncInteraktTemplates({ runId }: SyncInteraktTemplatesInput): Promise<TemplateSyncSummary> {
      const run = await getTemplateSyncRun(deps.db, runId);
      if (!run)
        throw ApplicationFailure.nonRetryable(`template sync run ${runId} does not exist`, TEMPLATE_SYNC_RUN_NOT_FOUND);
      if (run.status !== 'running') {
        // Finished by an earlier attempt whose completion was lost: report what it recorded.
        const { fetched, created, updated, unchanged, removed, errorCount, status } = run;
        return { runId, status, fetched, created, updated, unchanged, removed, errorCount };
      }

      const progress = restoreCheckpoint(activityInfo().heartbeatDetails);
      const seen = new Map(progress.seen.map(([name, language]) => [keyOf({ name, language }), { name, language }]));
      const addError = (message: string, key?: TemplateKey): void => {
        progress.counts.errorCount += 1;
        // The count keeps growing; the list (which every heartbeat carries) stops at the stored cap.
        if (progress.errors.length >= MAX_RECORDED_SYNC_ERRORS) return;
        progress.errors.push(key ? { template: `${key.name} (${key.language})`, message } : { message });
      };

      try {
        const client = await deps.getInteraktTemplateClient();
        for await (const page of client.pages(progress.offset)) {
          for (const [index, raw] of page.rows.entries()) {
            progress.counts.fetched += 1;
            const parsed = parseInteraktTemplate(raw);
            if (!parsed.ok) {
              // It still exists upstream, so it must not be marked removed.
              if (parsed.key) seen.set(keyOf(parsed.key), parsed.key);
              addError(parsed.key ? parsed.reason : `row ${page.offset + index}: ${parsed.reason}`, parsed.key);
              continue;
            }
            const { template } = parsed;
            // Offsets shift when a template is added upstream mid-sync, so a row may come twice.
            if (seen.has(keyOf(template))) continue;
            seen.set(keyOf(template), { name: template.name, language: template.language });
            progress.counts[await upsertSyncedTemplate(deps.db, PROVIDER, template, now())] += 1;
          }
          progress.offset = page.offset + page.rows.length;
          progress.seen = [...seen.values()].map(({ name, language }) => [name, language]);
          await recordTemplateSyncProgress(deps.db, runId, { counts: progress.counts, errors: progress.errors });
          heartbeat(progress);
        }
      } catch (error) {
        throw providerReadFailure(error, { config: TEMPLATE_SYNC_CONFIG_ERROR, permanent: TEMPLATE_SYNC_REFUSED });
      }

      progress.counts.removed = await markTemplatesRemovedUpstream(deps.db, PROVIDER, [...seen.values()], now());
      await finishTemplateSyncRun(deps.db, runId, {
        status: 'completed',
        counts: progress.counts,
        errors: progress.errors,
        finishedAt: now(),
      });
      return { runId, status: 'completed', ...progress.counts };
    },

    /** Closes a run whose sync failed for good: counts so far stay, the reason joins its errors. */
    async failTemplateSyncRun({ runId, message }: FailTemplateSyncRunInput): Promise<void> {
      const run = await getTemplateSyncRun(deps.db, runId);
      if (!run || run.status !== 'running') return;
      await finishTemplateSyncRun(deps.db, runId, {
        status: 'failed',
        counts: {},
        errors: [...run.errors.slice(0, MAX_RECORDED_SYNC_ERRORS - 1), { message }],
        finishedAt: now(),
      });
    },
  };
}

export type TemplateSyncActivities = ReturnType<typeof createTemplateSyncActivities>;

const keyOf = (key: TemplateKey): string => JSON.stringify([key.name, key.language]);

function restoreCheckpoint(details: unknown): SyncCheckpoint {
  const saved = details as Partial<SyncCheckpoint> | undefined;
  if (
    saved &&
    typeof saved.offset === 'number' &&
    Array.isArray(saved.seen) &&
    saved.counts &&
    Array.isArray(saved.errors)
  ) {
    return {
      offset: saved.offset,
      seen: saved.seen,
      counts: { ...emptyCounts(), ...saved.counts },
      errors: saved.errors,
    };
  }
  return { offset: 0, seen: [], counts: emptyCounts(), errors: [] };
}
