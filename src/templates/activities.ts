import { activityInfo, ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { Db } from '../db/client';
import {
  applyTemplateStatusUpdate,
  getTemplate,
  updateTemplate,
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
import { isProviderError } from '../providers/errors';
import type { MetaTemplateClient, MetaTemplateStatus } from '../providers/meta-templates';
import type { TemplateSource } from '../providers/templates';
import { normaliseApprovalStatus } from '../providers/approval-status';
import type { TemplateSubmissionInput } from './contract';
import { providerReadFailure } from '../provider-failures';
import type { ProviderName } from '../shared';

/** Failure types the workflow must not retry: a retry would get the same answer. */
export const TEMPLATE_SYNC_REFUSED = 'TemplateSyncRefused';
export const TEMPLATE_SYNC_CONFIG_ERROR = 'ProviderConfigError';
export const TEMPLATE_SYNC_RUN_NOT_FOUND = 'TemplateSyncRunNotFound';

export interface TemplateSyncActivityDeps {
  db: Db;
  /** The deployment's provider, whose templates are synced (default interakt). */
  provider?: ProviderName;
  /** Asked once per sync attempt, so a rotated API key or base URL is used by the next sync. */
  getTemplateSource: () => TemplateSource | Promise<TemplateSource>;
  now?: () => Date;
}

export interface StartTemplateSyncRunInput {
  trigger: TemplateSyncTrigger;
  /** The workflow's start time (epoch ms): with provider and trigger, it names the run, so a retry finds its row. */
  startedAtMs: number;
}

export interface SyncProviderTemplatesInput {
  runId: number;
}
/** The input of the activity's first name, kept for workflows started before it had another. */
export type SyncInteraktTemplatesInput = SyncProviderTemplatesInput;

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
  /** Where the provider's next page starts (its own cursor); null once every page has been read. */
  cursor: unknown;
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
  const provider = deps.provider ?? 'interakt';

  /**
   * One full pass over the provider's template list: every row is parsed and upserted by name +
   * language, a row that cannot be parsed is counted and recorded without stopping the pass, and
   * only when the last page has been read are the provider's templates it did not list marked
   * removed. A failed pass marks nothing. Heartbeats after each page; a retry resumes from there.
   */
  async function syncProviderTemplates({ runId }: SyncProviderTemplatesInput): Promise<TemplateSyncSummary> {
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

    let source: TemplateSource;
    try {
      source = await deps.getTemplateSource();
      if (source.provider !== run.provider) {
        // The deployment changed provider since the run was opened: its list is not this run's.
        throw ApplicationFailure.nonRetryable(
          `template sync run ${runId} is for ${run.provider}, but this worker reads ${source.provider}`,
          TEMPLATE_SYNC_CONFIG_ERROR,
        );
      }
      const pages = progress.cursor === null ? [] : source.pages(progress.cursor);
      for await (const page of pages) {
        for (const [index, raw] of page.rows.entries()) {
          progress.counts.fetched += 1;
          const parsed = source.parse(raw);
          if (!parsed.ok) {
            // It still exists upstream, so it must not be marked removed.
            if (parsed.key) seen.set(keyOf(parsed.key), parsed.key);
            addError(parsed.key ? parsed.reason : `${page.describeRow(index)}: ${parsed.reason}`, parsed.key);
            continue;
          }
          const { template } = parsed;
          // Lists shift when a template is added upstream mid-sync, and a provider may list one
          // template under several senders: each is upserted once a pass.
          if (seen.has(keyOf(template))) continue;
          seen.set(keyOf(template), { name: template.name, language: template.language });
          progress.counts[await upsertSyncedTemplate(deps.db, source.provider, template, now())] += 1;
        }
        progress.cursor = page.next;
        progress.seen = [...seen.values()].map(({ name, language }) => [name, language]);
        await recordTemplateSyncProgress(deps.db, runId, { counts: progress.counts, errors: progress.errors });
        heartbeat(progress);
      }
    } catch (error) {
      throw providerReadFailure(error, { config: TEMPLATE_SYNC_CONFIG_ERROR, permanent: TEMPLATE_SYNC_REFUSED });
    }

    progress.counts.removed = await markTemplatesRemovedUpstream(deps.db, source.provider, [...seen.values()], now());
    await finishTemplateSyncRun(deps.db, runId, {
      status: 'completed',
      counts: progress.counts,
      errors: progress.errors,
      finishedAt: now(),
    });
    return { runId, status: 'completed', ...progress.counts };
  }

  return {
    /** Creates the TemplateSyncRuns row of a run nobody created beforehand (a scheduled one). Idempotent. */
    async startTemplateSyncRun({ trigger, startedAtMs }: StartTemplateSyncRunInput): Promise<number> {
      const key = { provider, trigger, startedAt: new Date(startedAtMs) };
      const existing = await findTemplateSyncRunByStart(deps.db, key);
      return (existing ?? (await createTemplateSyncRun(deps.db, key))).id;
    },

    syncProviderTemplates,
    /** The first name of syncProviderTemplates: workflows started before the rename still call it. */
    syncInteraktTemplates: syncProviderTemplates,

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
  if (saved && Array.isArray(saved.seen) && saved.counts && Array.isArray(saved.errors)) {
    // A heartbeat from before cursors holds only an offset into Interakt's one list (its first status's, now).
    const legacyOffset = (saved as { offset?: unknown }).offset;
    const cursor =
      'cursor' in saved
        ? saved.cursor
        : typeof legacyOffset === 'number'
          ? { status: 0, offset: legacyOffset }
          : undefined;
    return { cursor, seen: saved.seen, counts: { ...emptyCounts(), ...saved.counts }, errors: saved.errors };
  }
  return { cursor: undefined, seen: [], counts: emptyCounts(), errors: [] };
}

// ---------------------------------------------------------------------------------------------
// Submitting a template to Meta for review, and tracking the review

export const TEMPLATE_SUBMISSION_REFUSED = 'TemplateSubmissionRefused';

export interface TemplateSubmissionActivityDeps {
  db: Db;
  /** Meta's template edge for the deployment's WABA; asked per call, so a rotated token is used. */
  getMetaTemplateClient: () => MetaTemplateClient | Promise<MetaTemplateClient>;
  now?: () => Date;
}

export interface ReviewState {
  providerTemplateId: string;
  approvalStatus: string;
}

export function createTemplateSubmissionActivities(deps: TemplateSubmissionActivityDeps) {
  const now = deps.now ?? (() => new Date());

  async function recordStatus(templateId: number, status: MetaTemplateStatus): Promise<ReviewState> {
    const approvalStatus = normaliseApprovalStatus(status.status);
    await updateTemplate(deps.db, templateId, {
      providerTemplateId: status.id,
      approvalStatus,
      rejectionReason: approvalStatus === 'Rejected' ? status.rejectedReason : null,
    });
    return { providerTemplateId: status.id, approvalStatus };
  }

  return {
    /**
     * Submits the template to Meta at most once: a row that already has Meta's id was submitted;
     * otherwise Meta is asked first whether it has the template (an earlier attempt's answer may
     * have been lost), and only then is it created. A refusal (a rule Meta checks at creation, a
     * name already taken in that language) marks the row Rejected with Meta's reason, for good.
     */
    async submitTemplateForReview(input: TemplateSubmissionInput): Promise<ReviewState> {
      const row = await getTemplate(deps.db, input.templateId);
      if (!row)
        throw ApplicationFailure.nonRetryable(
          `template ${input.templateId} does not exist`,
          TEMPLATE_SUBMISSION_REFUSED,
        );
      if (row.providerTemplateId)
        return { providerTemplateId: row.providerTemplateId, approvalStatus: row.approvalStatus };
      const client = await deps.getMetaTemplateClient();
      try {
        const found = (await client.findTemplatesByName(input.definition.name)).find(
          (template) => template.language === input.definition.language,
        );
        return await recordStatus(input.templateId, found ?? (await client.createTemplate(input.definition)));
      } catch (error) {
        if (isProviderError(error) && error.kind === 'permanent') {
          await updateTemplate(deps.db, input.templateId, {
            approvalStatus: 'Rejected',
            rejectionReason: `Meta refused the submission: ${error.message}`.slice(0, 1000),
          });
          throw ApplicationFailure.create({
            type: TEMPLATE_SUBMISSION_REFUSED,
            message: error.message,
            nonRetryable: true,
            details: [{ code: error.code }],
          });
        }
        if (isProviderError(error))
          throw ApplicationFailure.create({
            type: error.kind === 'config' ? 'ProviderConfigError' : 'ProviderUnavailable',
            message: error.message,
            nextRetryDelay: error.details.retryAfterMs,
          });
        throw error;
      }
    },

    /** Meta's current review status of the template, written to Message Master (as its webhook would). */
    async checkTemplateReview({ templateId }: { templateId: number }): Promise<ReviewState> {
      const row = await getTemplate(deps.db, templateId);
      if (!row?.providerTemplateId)
        throw ApplicationFailure.nonRetryable(
          `template ${templateId} was never submitted`,
          TEMPLATE_SUBMISSION_REFUSED,
        );
      const client = await deps.getMetaTemplateClient();
      let status: MetaTemplateStatus;
      try {
        status = await client.getTemplate(row.providerTemplateId);
      } catch (error) {
        // Meta no longer has it (deleted in WhatsApp Manager): nothing more to track.
        if (isProviderError(error) && error.kind === 'permanent')
          throw ApplicationFailure.create({
            type: TEMPLATE_SUBMISSION_REFUSED,
            message: error.message,
            nonRetryable: true,
          });
        if (isProviderError(error))
          throw ApplicationFailure.create({
            type: error.kind === 'config' ? 'ProviderConfigError' : 'ProviderUnavailable',
            message: error.message,
            nextRetryDelay: error.details.retryAfterMs,
          });
        throw error;
      }
      const approvalStatus = normaliseApprovalStatus(status.status);
      await applyTemplateStatusUpdate(deps.db, {
        provider: 'meta',
        providerTemplateId: row.providerTemplateId,
        name: row.name,
        language: row.language,
        approvalStatus,
        rejectionReason: approvalStatus === 'Rejected' ? status.rejectedReason : null,
        at: now(),
      });
      return { providerTemplateId: row.providerTemplateId, approvalStatus };
    },
  };
}

export type TemplateSubmissionActivities = ReturnType<typeof createTemplateSubmissionActivities>;
