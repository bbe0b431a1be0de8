import { z } from 'zod';
import { SYNC_RUN_STATUSES } from '../db/schema/values';
import { INFOBIP_SYNC_MODES, INFOBIP_SYNC_SOURCES } from './contract';
import { matching, pageOf, Paging, rowJson, singleLine, Timestamp } from '../api/schemas';
import { infobipSyncRuns } from '../db/schema/sqlite';

const Instant = z.iso.datetime({ offset: true });
/** Infobip channel names as the People filter takes them (`whatsapp`, `sms`, `viber`, ...). */
const Channel = matching(30, /^[A-Za-z_]{2,30}$/, 'a channel name such as whatsapp or sms').transform((value) =>
  value.toLowerCase(),
);

const StatusRule = z
  .object({
    setStatus: singleLine(50),
    onlyIfStatusIn: z.array(singleLine(50)).min(1).max(50).optional(),
  })
  .strict();

/** What every run does, whoever starts it (the API, the CLI or the schedule). */
const SyncFields = {
  channels: z.array(Channel).min(1).max(10).optional(),
  source: z.enum(INFOBIP_SYNC_SOURCES).default('people'),
  mode: z.enum(INFOBIP_SYNC_MODES).default('create_update'),
  dryRun: z.boolean().default(false),
  statusRule: StatusRule.optional(),
  pageSize: z.number().int().min(1).max(1000).optional(),
};

/** `POST /sync/infobip/runs`; the CLI validates its flags with the same schema. */
export const InfobipSyncRunBody = z
  .object({
    since: Instant.optional(),
    until: Instant.optional(),
    ...SyncFields,
    /** Idempotency: a second start with the same key answers with the first run. */
    runKey: matching(80, /^[A-Za-z0-9_.:-]{1,80}$/, 'letters, digits and _ . : - (at most 80)').optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.since && body.until && Date.parse(body.since) >= Date.parse(body.until)) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be after since' });
    }
    if (body.until && Date.parse(body.until) > Date.now() + 60_000) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'must not be in the future' });
    }
  });
export type InfobipSyncRunBody = z.output<typeof InfobipSyncRunBody>;

export const InfobipSyncRunsQuery = Paging.extend({ status: z.enum(SYNC_RUN_STATUSES).optional() });

/** `POST /sync/infobip/schedule`: `every` or `cron`, and the options of every scheduled run. */
export const InfobipSyncScheduleBody = z
  .object({
    every: z.enum(['hourly', 'daily']).optional(),
    // Bounded before the pattern runs: its repeated groups backtrack on a long line.
    cron: z
      .string()
      .max(100, { abort: true })
      .trim()
      .regex(/^\S+(?:[ \t]+\S+){4}$/, 'a five-field cron expression, e.g. "0 * * * *"')
      .optional(),
    ...SyncFields,
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.every === undefined) === (body.cron === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['every'], message: 'give exactly one of every (hourly | daily) or cron' });
    }
  });

export const ScheduleNoteBody = z.object({ note: singleLine(200).optional() }).strict();

// ---------------------------------------------------------------------------------------------
// Responses.

const Counts = z.strictObject({
  fetched: z.number().int(),
  matched: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  skipped: z.number().int(),
  invalid: z.number().int(),
  errorCount: z.number().int(),
});

export const InfobipSyncRunResponse = rowJson(infobipSyncRuns, {
  trigger: z.enum(['api', 'cli', 'schedule']),
  /** The options as resolved at the start: window, channels, source, mode, rule, warnings. */
  options: z.record(z.string(), z.unknown()),
}).meta({ id: 'InfobipSyncRun' });

export const InfobipSyncRunPageResponse = pageOf(InfobipSyncRunResponse);

/** The workflow's own progress while a run is going (the `infobipSyncProgress` query). */
const ProgressResponse = z.strictObject({
  runKey: z.string(),
  runId: z.number().int().nullable(),
  status: z.enum(['starting', 'running', 'completed', 'failed']),
  windowFrom: Timestamp.nullable(),
  windowTo: Timestamp.nullable(),
  position: z.strictObject({ source: z.enum(['people', 'logs']), pageNo: z.number().int() }).nullable(),
  pagesDone: z.number().int(),
  counts: Counts,
  warnings: z.array(z.string()),
  failure: z.string().nullable(),
});

export const InfobipSyncRunDetailResponse = InfobipSyncRunResponse.extend({
  errors: z.array(z.strictObject({ record: z.string(), message: z.string() })),
  /** A dry run's would-be changes (phones masked); null for a real run. */
  preview: z
    .array(
      z.strictObject({
        action: z.enum(['create', 'update']),
        leadId: z.number().int().nullable(),
        phone: z.string(),
        changes: z.record(z.string(), z.string().nullable()),
      }),
    )
    .nullable(),
  pages: z.number().int(),
  progress: ProgressResponse.nullable(),
});

export const InfobipSyncStartResponse = z.strictObject({
  runId: z.number().int(),
  runKey: z.string(),
  workflowId: z.string(),
  status: z.enum(SYNC_RUN_STATUSES),
  windowFrom: Timestamp,
  windowTo: Timestamp,
  warnings: z.array(z.string()),
  /** True when `runKey` named a run that already existed: nothing new was started. */
  alreadyStarted: z.boolean(),
});

export const LastSuccessResponse = z.strictObject({
  lastSuccessAt: Timestamp.nullable(),
  lastScheduledSuccessAt: Timestamp.nullable(),
});

export const ScheduleResponse = z
  .strictObject({
    scheduleId: z.string(),
    cadence: z
      .union([z.strictObject({ every: z.enum(['hourly', 'daily']) }), z.strictObject({ cron: z.string() })])
      .nullable(),
    paused: z.boolean(),
    note: z.string().nullable(),
    options: z.record(z.string(), z.unknown()).nullable(),
    nextRunTimes: z.array(Timestamp),
    recentRuns: z.array(z.strictObject({ scheduledAt: Timestamp, startedAt: Timestamp, workflowId: z.string() })),
    runningWorkflowIds: z.array(z.string()),
  })
  .meta({ id: 'InfobipSyncSchedule' });

export const TriggeredResponse = z.strictObject({ triggered: z.literal(true) });
