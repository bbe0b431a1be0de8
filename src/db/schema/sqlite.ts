/**
 * The SQLite flavour of the schema. `mssql.ts` declares the same tables, columns and JS value types;
 * the DDL lives in `../migrations/sqlite/` and a test checks the two agree.
 *
 * Ids are AUTOINCREMENT so a deleted row's id is never reused: workflow ids are built from them
 * (`drip-<assignmentId>`) and Temporal remembers closed workflows.
 */
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import {
  ASSIGNMENT_EVENTS,
  ASSIGNMENT_STATUSES,
  CTA_ACTIONS,
  CTA_CLICK_RESULTS,
  CTA_RUN_STATUSES,
  CAMPAIGN_RECIPIENT_STATUSES,
  CAMPAIGN_STATUSES,
  CUSTOM_FIELD_TYPES,
  FAILURE_KINDS,
  HEADER_TYPES,
  IVR_CALL_STATUSES,
  ROLES,
  MESSAGE_DIRECTIONS,
  MESSAGE_STATUSES,
  REFERENCE_TYPES,
  SYNC_RUN_STATUSES,
} from './values';

const id = () => integer('Id').primaryKey({ autoIncrement: true });
const timestamp = (name: string) => integer(name, { mode: 'timestamp_ms' });
const createdAt = () =>
  timestamp('CreatedAt')
    .notNull()
    .$defaultFn(() => new Date());
const updatedAt = () =>
  timestamp('UpdatedAt')
    .notNull()
    .$defaultFn(() => new Date());
const flag = (name: string) => integer(name, { mode: 'boolean' }).notNull().default(false);

export const clients = sqliteTable(
  'Clients',
  {
    id: id(),
    name: text('Name').notNull(),
    firstName: text('FirstName'),
    lastName: text('LastName'),
    phone: text('Phone').notNull().unique('UQ_Clients_Phone'),
    email: text('Email'),
    status: text('Status').notNull().default('New'),
    stage: text('Stage').notNull().default('New'),
    optedOut: flag('OptedOut'),
    optedOutAt: timestamp('OptedOutAt'),
    timeZone: text('TimeZone'),
    lastContactedAt: timestamp('LastContactedAt'),
    customFields: text('CustomFields').notNull().default('{}'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** Set when the lead said "not interested": no marketing (drips, CTA flows) reaches them after. */
    marketingSuppressedAt: timestamp('MarketingSuppressedAt'),
    /** Where the lead came from: `crm`, `ivr`, `infobip`, ... */
    source: text('Source').notNull().default('crm'),
    /** The channel of the last contact (`whatsapp`, `sms`, ...), as the last sync saw it. */
    lastChannel: text('LastChannel'),
    infobipProfileId: text('InfobipProfileId'),
    /** When an Infobip sync last touched this lead. */
    lastSyncedAt: timestamp('LastSyncedAt'),
  },
  // Analytics: contacts by creation time (totals at a date, new per month).
  (t) => [index('IX_Clients_CreatedAt').on(t.createdAt)],
);

export const users = sqliteTable('Users', {
  id: id(),
  name: text('Name').notNull(),
  email: text('Email').notNull().unique('UQ_Users_Email'),
  role: text('Role').notNull(),
  createdAt: createdAt(),
});

export const apiKeys = sqliteTable('ApiKeys', {
  id: id(),
  name: text('Name').notNull(),
  keyHash: text('KeyHash').notNull().unique('UQ_ApiKeys_KeyHash'),
  keyPrefix: text('KeyPrefix').notNull(),
  createdAt: createdAt(),
  lastUsedAt: timestamp('LastUsedAt'),
  revokedAt: timestamp('RevokedAt'),
  role: text('Role', { enum: ROLES }).notNull().default('admin'),
});

export const masterData = sqliteTable(
  'MasterData',
  {
    id: id(),
    category: text('Category').notNull(),
    key: text('Key').notNull(),
    value: text('Value').notNull(),
    isSecret: flag('IsSecret'),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('UX_MasterData_Category_Key').on(t.category, t.key)],
);

export const messageMaster = sqliteTable(
  'MessageMaster',
  {
    id: id(),
    name: text('Name').notNull(),
    language: text('Language').notNull(),
    category: text('Category'),
    approvalStatus: text('ApprovalStatus').notNull().default('Approved'),
    headerType: text('HeaderType', { enum: HEADER_TYPES }).notNull().default('none'),
    headerText: text('HeaderText'),
    body: text('Body').notNull(),
    footer: text('Footer'),
    buttons: text('Buttons').notNull().default('[]'),
    provider: text('Provider'),
    providerTemplateId: text('ProviderTemplateId'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    archivedAt: timestamp('ArchivedAt'),
    /** Default media URL for a document / image / video header. */
    headerMediaUrl: text('HeaderMediaUrl'),
    rejectionReason: text('RejectionReason'),
    /** `crm` when created here, else the provider it was synced from. */
    source: text('Source').notNull().default('crm'),
    lastSyncedAt: timestamp('LastSyncedAt'),
    /** Set when a sync no longer finds the template upstream. */
    removedUpstreamAt: timestamp('RemovedUpstreamAt'),
    /** The provider's quality rating (Meta GREEN / YELLOW / RED / UNKNOWN), from a sync or a webhook. */
    qualityScore: text('QualityScore'),
  },
  (t) => [uniqueIndex('UX_MessageMaster_Name_Language').on(t.name, t.language)],
);

export const templateSyncRuns = sqliteTable('TemplateSyncRuns', {
  id: id(),
  provider: text('Provider').notNull(),
  trigger: text('Trigger').notNull(),
  status: text('Status').notNull(),
  startedAt: timestamp('StartedAt').notNull(),
  finishedAt: timestamp('FinishedAt'),
  fetched: integer('Fetched').notNull().default(0),
  created: integer('Created').notNull().default(0),
  updated: integer('Updated').notNull().default(0),
  unchanged: integer('Unchanged').notNull().default(0),
  removed: integer('Removed').notNull().default(0),
  errorCount: integer('ErrorCount').notNull().default(0),
  /** JSON array of `{ template?, message }`. */
  errors: text('Errors').notNull().default('[]'),
});

/** Every provider webhook event we accepted, once: the unique key is what makes replays no-ops. */
export const webhookEvents = sqliteTable(
  'WebhookEvents',
  {
    id: id(),
    provider: text('Provider').notNull(),
    dedupeKey: text('DedupeKey').notNull(),
    eventType: text('EventType').notNull(),
    providerMessageId: text('ProviderMessageId'),
    messageId: integer('MessageId'),
    outcome: text('Outcome').notNull(),
    receivedAt: timestamp('ReceivedAt').notNull(),
    payload: text('Payload').notNull(),
    /** A status event as parsed at receipt (JSON), applied by the processor while Outcome is 'pending'. */
    statusEvent: text('StatusEvent'),
  },
  (t) => [
    uniqueIndex('UX_WebhookEvents_Provider_DedupeKey').on(t.provider, t.dedupeKey),
    index('IX_WebhookEvents_ProviderMessageId').on(t.providerMessageId),
    // The processor's queue: only rows still to apply are in it.
    index('IX_WebhookEvents_Pending')
      .on(t.id)
      .where(sql`"Outcome" = 'pending'`),
  ],
);

export const dripSequences = sqliteTable('DripSequence', {
  id: id(),
  name: text('Name').notNull(),
  description: text('Description'),
  stopOnReply: flag('StopOnReply'),
  version: integer('Version').notNull().default(1),
  archivedAt: timestamp('ArchivedAt'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  /** The sender number its messages go from; null: the deployment's default sender. */
  sender: text('Sender'),
  /** JSON SequenceSendRules (src/delivery): window, quiet days, exits, transactional; null = the account's defaults. */
  sendRules: text('SendRules'),
});

export const dripSequenceSteps = sqliteTable(
  'DripSequenceSteps',
  {
    id: id(),
    sequenceId: integer('SequenceId')
      .notNull()
      .references(() => dripSequences.id),
    stepOrder: integer('StepOrder').notNull(),
    templateName: text('TemplateName').notNull(),
    templateLanguage: text('TemplateLanguage').notNull(),
    delaySeconds: integer('DelaySeconds').notNull(),
    variables: text('Variables').notNull(),
  },
  (t) => [uniqueIndex('UX_DripSequenceSteps_Sequence_Order').on(t.sequenceId, t.stepOrder)],
);

export const leadDripAssignments = sqliteTable(
  'LeadDripAssignment',
  {
    id: id(),
    leadId: integer('LeadId')
      .notNull()
      .references(() => clients.id),
    sequenceId: integer('SequenceId')
      .notNull()
      .references(() => dripSequences.id),
    sequenceVersion: integer('SequenceVersion').notNull(),
    stepsSnapshot: text('StepsSnapshot').notNull(),
    status: text('Status', { enum: ASSIGNMENT_STATUSES }).notNull(),
    nextStep: integer('NextStep').notNull().default(0),
    totalSteps: integer('TotalSteps').notNull(),
    nextSendAt: timestamp('NextSendAt'),
    stopReason: text('StopReason'),
    lastError: text('LastError'),
    workflowId: text('WorkflowId'),
    startedAt: timestamp('StartedAt')
      .notNull()
      .$defaultFn(() => new Date()),
    completedAt: timestamp('CompletedAt'),
    updatedAt: updatedAt(),
  },
  (t) => [
    // The database itself refuses a second live enrolment of a lead in the same sequence.
    uniqueIndex('UX_LeadDripAssignment_Active')
      .on(t.leadId, t.sequenceId)
      .where(sql`"Status" IN ('pending', 'active', 'paused')`),
    index('IX_LeadDripAssignment_Sequence_Status').on(t.sequenceId, t.status),
    index('IX_LeadDripAssignment_Lead_Status').on(t.leadId, t.status),
    // A funnel's assignments by outcome, read from the index alone (migration 0051).
    index('IX_LeadDripAssignment_Sequence_Outcome').on(t.sequenceId, t.status, t.stopReason, t.totalSteps),
  ],
);

export const dripAssignmentEvents = sqliteTable(
  'DripAssignmentEvents',
  {
    id: id(),
    assignmentId: integer('AssignmentId')
      .notNull()
      .references(() => leadDripAssignments.id),
    stepIndex: integer('StepIndex'),
    event: text('Event', { enum: ASSIGNMENT_EVENTS }).notNull(),
    detail: text('Detail'),
    at: timestamp('At')
      .notNull()
      .$defaultFn(() => new Date()),
  },
  (t) => [index('IX_DripAssignmentEvents_Assignment').on(t.assignmentId, t.id)],
);

/**
 * The message log and the send ledger in one: an outgoing row is written (status 'pending') before
 * the provider is called, keyed by the send's idempotency key, so a retried activity finds it.
 * LeadId has no foreign key on purpose: the log outlives leads and records incoming messages from
 * numbers that are not leads yet.
 */
export const whatsAppMessages = sqliteTable(
  'WhatsAppMessages',
  {
    id: id(),
    idempotencyKey: text('IdempotencyKey'),
    leadId: integer('LeadId'),
    direction: text('Direction', { enum: MESSAGE_DIRECTIONS }).notNull(),
    provider: text('Provider').notNull(),
    providerMessageId: text('ProviderMessageId'),
    phone: text('Phone').notNull(),
    countryCode: text('CountryCode'),
    templateName: text('TemplateName'),
    templateLanguage: text('TemplateLanguage'),
    messageContent: text('MessageContent').notNull().default('{}'),
    mediaUrl: text('MediaUrl'),
    referenceType: text('ReferenceType', { enum: REFERENCE_TYPES }),
    referenceId: text('ReferenceId'),
    workflowId: text('WorkflowId'),
    stepIndex: integer('StepIndex'),
    callbackData: text('CallbackData'),
    campaignId: text('CampaignId'),
    status: text('Status', { enum: MESSAGE_STATUSES }).notNull(),
    attempts: integer('Attempts').notNull().default(0),
    attemptStartedAt: timestamp('AttemptStartedAt'),
    sentAt: timestamp('SentAt'),
    deliveredAt: timestamp('DeliveredAt'),
    readAt: timestamp('ReadAt'),
    failedAt: timestamp('FailedAt'),
    errorCode: text('ErrorCode'),
    errorMessage: text('ErrorMessage'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** The business number that sent it (Meta phone number id, Infobip sender); null where the provider names none. */
    sender: text('Sender'),
    /**
     * Outgoing: CreatedAt of the lead's first incoming message after this send's sent time
     * (coalesce(SentAt, DeliveredAt, ReadAt)); null until sent or replied to. Kept by messages.ts.
     */
    firstReplyAt: timestamp('FirstReplyAt'),
    /** Incoming: ms from it to the lead's first outgoing message after it (response time); null until answered. Kept by messages.ts. */
    responseMs: integer('ResponseMs'),
  },
  (t) => [
    uniqueIndex('UX_WhatsAppMessages_IdempotencyKey')
      .on(t.idempotencyKey)
      .where(sql`"IdempotencyKey" IS NOT NULL`),
    index('IX_WhatsAppMessages_ProviderMessageId').on(t.providerMessageId),
    index('IX_WhatsAppMessages_CallbackData').on(t.callbackData),
    index('IX_WhatsAppMessages_Lead_CreatedAt').on(t.leadId, t.createdAt),
    index('IX_WhatsAppMessages_Reference').on(t.referenceType, t.referenceId),
    index('IX_WhatsAppMessages_UpdatedAt_Id').on(t.updatedAt, t.id),
    // Analytics (migrations 0050, 0051): a lead's messages of one direction in time order (replies
    // to a send, the next answer to an inbound message), the sends and inbound messages of a period,
    // and the sends of one reference (a drip assignment, a campaign). The last two carry every column
    // an outcome count reads, so counting a million-row log never touches the rows themselves; the
    // failed sends of a reference have their own filtered index.
    index('IX_WhatsAppMessages_Direction_Lead_CreatedAt').on(t.direction, t.leadId, t.createdAt),
    index('IX_WhatsAppMessages_Direction_CreatedAt_Replies').on(
      t.direction,
      t.createdAt,
      t.leadId,
      t.sentAt,
      t.deliveredAt,
      t.readAt,
      t.status,
      t.firstReplyAt,
      t.responseMs,
    ),
    index('IX_WhatsAppMessages_Reference_Replies').on(
      t.referenceType,
      t.referenceId,
      t.stepIndex,
      t.sentAt,
      t.deliveredAt,
      t.readAt,
      t.status,
      t.firstReplyAt,
    ),
    index('IX_WhatsAppMessages_Reference_Failed')
      .on(t.referenceType, t.referenceId, t.stepIndex, t.errorCode)
      .where(sql`"Status" = 'failed'`),
    // Migration 0053: the answered inbound messages in ResponseMs order, so a percentile of a long
    // period walks this index instead of sorting the period (getResponseTimes).
    index('IX_WhatsAppMessages_Incoming_ResponseMs')
      .on(t.responseMs, t.createdAt, t.leadId, t.direction)
      .where(sql`"Direction" = 'incoming' and "ResponseMs" is not null and "LeadId" is not null`),
  ],
);

/** Every IVR call reported to us, once per call id; unprocessed calls become CTA flows. */
export const ivrCallLog = sqliteTable(
  'IVRCallLog',
  {
    id: id(),
    callId: text('CallId').notNull(),
    /** The caller's number as the IVR reported it, and normalised to E.164. */
    callerNumber: text('CallerNumber').notNull(),
    callerPhone: text('CallerPhone').notNull(),
    calledNumber: text('CalledNumber').notNull(),
    calledAt: timestamp('CalledAt').notNull(),
    leadId: integer('LeadId').notNull(),
    leadCreated: flag('LeadCreated'),
    status: text('Status', { enum: IVR_CALL_STATUSES }).notNull().default('received'),
    flowRunId: integer('FlowRunId'),
    processedAt: timestamp('ProcessedAt'),
    /** Why a processed call started no flow (`already_in_flow`, `suppressed`, ...). */
    note: text('Note'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('UX_IVRCallLog_CallId').on(t.callId),
    index('IX_IVRCallLog_Received')
      .on(t.id)
      .where(sql`"Status" = 'received'`),
  ],
);

/** A CTA follow-up flow: the interactive template, what each answer does, and its timings. */
export const ctaFlows = sqliteTable(
  'CtaFlows',
  {
    id: id(),
    name: text('Name').notNull(),
    templateName: text('TemplateName').notNull(),
    templateLanguage: text('TemplateLanguage').notNull(),
    projectName: text('ProjectName').notNull(),
    /** JSON VariableSource[] for the body; by default the lead's name and the project name. */
    bodyVariables: text('BodyVariables').notNull().default('[]'),
    interestedButtonIndex: integer('InterestedButtonIndex').notNull().default(0),
    notInterestedButtonIndex: integer('NotInterestedButtonIndex').notNull().default(1),
    reminderAfterSeconds: integer('ReminderAfterSeconds').notNull(),
    closeAfterSeconds: integer('CloseAfterSeconds').notNull(),
    tokenTtlSeconds: integer('TokenTtlSeconds').notNull(),
    brochureTemplateName: text('BrochureTemplateName').notNull(),
    brochureTemplateLanguage: text('BrochureTemplateLanguage').notNull(),
    brochureUrl: text('BrochureUrl'),
    brochureFileName: text('BrochureFileName'),
    followUpCallAfterSeconds: integer('FollowUpCallAfterSeconds').notNull(),
    /** Calls to this IVR number start this flow. */
    ivrNumber: text('IvrNumber'),
    archivedAt: timestamp('ArchivedAt'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** The sender number its messages go from; null: the deployment's default sender. */
    sender: text('Sender'),
  },
  (t) => [uniqueIndex('UX_CtaFlows_Name').on(t.name)],
);

/** One lead in one CTA flow (workflow `cta-<leadId>-<flowId>`): at most once per lead and flow. */
export const ctaFlowRuns = sqliteTable(
  'CtaFlowRuns',
  {
    id: id(),
    flowId: integer('FlowId')
      .notNull()
      .references(() => ctaFlows.id),
    leadId: integer('LeadId').notNull(),
    workflowId: text('WorkflowId').notNull(),
    trigger: text('Trigger').notNull(),
    ivrCallId: integer('IvrCallId'),
    status: text('Status', { enum: CTA_RUN_STATUSES }).notNull().default('pending'),
    /** The first click's action; later clicks never change it. */
    decision: text('Decision', { enum: CTA_ACTIONS }),
    decidedAt: timestamp('DecidedAt'),
    sentAt: timestamp('SentAt'),
    remindedAt: timestamp('RemindedAt'),
    closedAt: timestamp('ClosedAt'),
    lastError: text('LastError'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('UX_CtaFlowRuns_Flow_Lead').on(t.flowId, t.leadId),
    uniqueIndex('UX_CtaFlowRuns_WorkflowId').on(t.workflowId),
    index('IX_CtaFlowRuns_Lead').on(t.leadId),
    index('IX_CtaFlowRuns_Flow_SentAt').on(t.flowId, t.sentAt),
    // Analytics: the count of runs still open.
    index('IX_CtaFlowRuns_Status').on(t.status),
  ],
);

/** Every human click on a CTA link with a valid token: the deciding one and any repeats. */
export const ctaInteractions = sqliteTable(
  'CtaInteractions',
  {
    id: id(),
    runId: integer('RunId')
      .notNull()
      .references(() => ctaFlowRuns.id),
    flowId: integer('FlowId').notNull(),
    leadId: integer('LeadId').notNull(),
    action: text('Action', { enum: CTA_ACTIONS }).notNull(),
    result: text('Result', { enum: CTA_CLICK_RESULTS }).notNull(),
    userAgent: text('UserAgent'),
    clickedAt: timestamp('ClickedAt').notNull(),
  },
  (t) => [
    index('IX_CtaInteractions_Flow_ClickedAt').on(t.flowId, t.clickedAt),
    index('IX_CtaInteractions_Run').on(t.runId),
  ],
);

/** The lead's timeline. A dedupe key makes a note written by a retried activity appear once. */
export const leadNotes = sqliteTable(
  'LeadNotes',
  {
    id: id(),
    leadId: integer('LeadId').notNull(),
    body: text('Body').notNull(),
    source: text('Source').notNull(),
    dedupeKey: text('DedupeKey'),
    createdAt: createdAt(),
  },
  (t) => [
    index('IX_LeadNotes_Lead').on(t.leadId, t.id),
    uniqueIndex('UX_LeadNotes_DedupeKey')
      .on(t.dedupeKey)
      .where(sql`"DedupeKey" IS NOT NULL`),
  ],
);

/** Things a salesperson must do (a follow-up call), with a due time. */
export const leadTasks = sqliteTable(
  'LeadTasks',
  {
    id: id(),
    leadId: integer('LeadId').notNull(),
    kind: text('Kind').notNull(),
    title: text('Title').notNull(),
    dueAt: timestamp('DueAt').notNull(),
    status: text('Status').notNull().default('open'),
    dedupeKey: text('DedupeKey'),
    createdAt: createdAt(),
    completedAt: timestamp('CompletedAt'),
  },
  (t) => [
    index('IX_LeadTasks_Lead').on(t.leadId, t.id),
    index('IX_LeadTasks_Status_DueAt').on(t.status, t.dueAt),
    uniqueIndex('UX_LeadTasks_DedupeKey')
      .on(t.dedupeKey)
      .where(sql`"DedupeKey" IS NOT NULL`),
  ],
);

/** One Infobip sync run (workflow `infobip-sync-<runKey>`): its inputs and, once finished, its totals. */
export const infobipSyncRuns = sqliteTable(
  'InfobipSyncRuns',
  {
    id: id(),
    runKey: text('RunKey').notNull(),
    workflowId: text('WorkflowId').notNull(),
    trigger: text('Trigger').notNull(),
    scheduleId: text('ScheduleId'),
    status: text('Status', { enum: SYNC_RUN_STATUSES }).notNull().default('running'),
    /** JSON of the run's options: window, channels, source, mode, dry run, status rule. */
    options: text('Options').notNull(),
    dryRun: flag('DryRun'),
    windowFrom: timestamp('WindowFrom').notNull(),
    windowTo: timestamp('WindowTo').notNull(),
    startedAt: timestamp('StartedAt').notNull(),
    finishedAt: timestamp('FinishedAt'),
    fetched: integer('Fetched').notNull().default(0),
    matched: integer('Matched').notNull().default(0),
    created: integer('Created').notNull().default(0),
    updated: integer('Updated').notNull().default(0),
    skipped: integer('Skipped').notNull().default(0),
    invalid: integer('Invalid').notNull().default(0),
    errorCount: integer('ErrorCount').notNull().default(0),
    failure: text('Failure'),
  },
  (t) => [
    uniqueIndex('UX_InfobipSyncRuns_RunKey').on(t.runKey),
    index('IX_InfobipSyncRuns_Status_WindowTo').on(t.status, t.windowTo),
  ],
);

/**
 * One page of a sync run, written once the page is applied: a page done again after a crash
 * replaces its row, so the run's totals (the sum of its pages) never count a record twice.
 */
export const infobipSyncPages = sqliteTable(
  'InfobipSyncPages',
  {
    id: id(),
    runId: integer('RunId')
      .notNull()
      .references(() => infobipSyncRuns.id),
    source: text('Source').notNull(),
    pageNo: integer('PageNo').notNull(),
    fetched: integer('Fetched').notNull().default(0),
    matched: integer('Matched').notNull().default(0),
    created: integer('Created').notNull().default(0),
    updated: integer('Updated').notNull().default(0),
    skipped: integer('Skipped').notNull().default(0),
    invalid: integer('Invalid').notNull().default(0),
    /** JSON array of `{ record, message }`: the page's per-record errors. */
    errors: text('Errors').notNull().default('[]'),
    /** Dry runs: JSON array of the changes the page would make. */
    preview: text('Preview'),
    completedAt: timestamp('CompletedAt').notNull(),
  },
  (t) => [uniqueIndex('UX_InfobipSyncPages_Run_Source_Page').on(t.runId, t.source, t.pageNo)],
);

/** What a lead's custom field may hold: its type and, for `enum`, the values allowed. */
export const customFieldDefinitions = sqliteTable(
  'CustomFieldDefinitions',
  {
    id: id(),
    name: text('Name').notNull(),
    type: text('Type', { enum: CUSTOM_FIELD_TYPES }).notNull(),
    /** JSON array of the allowed values of an `enum` field; `[]` for the other types. */
    allowedValues: text('AllowedValues').notNull().default('[]'),
    description: text('Description'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('UX_CustomFieldDefinitions_Name').on(t.name)],
);

/** A saved, named filter over leads; its members are computed when asked (live). */
export const segments = sqliteTable(
  'Segments',
  {
    id: id(),
    name: text('Name').notNull(),
    description: text('Description'),
    /** JSON SegmentFilter (src/segments/filter.ts). */
    filter: text('Filter').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('UX_Segments_Name').on(t.name)],
);

/** One template to a segment or a list of leads, now or at a time (workflow `campaign-<id>`). */
export const campaigns = sqliteTable(
  'Campaigns',
  {
    id: id(),
    name: text('Name').notNull(),
    status: text('Status', { enum: CAMPAIGN_STATUSES }).notNull().default('draft'),
    templateName: text('TemplateName').notNull(),
    templateLanguage: text('TemplateLanguage').notNull(),
    /** JSON TemplateVariables, as a drip step's. */
    variables: text('Variables').notNull().default('{}'),
    segmentId: integer('SegmentId').references(() => segments.id),
    /** JSON array of lead ids when the audience is an explicit list. */
    leadIds: text('LeadIds'),
    scheduledAt: timestamp('ScheduledAt'),
    startedAt: timestamp('StartedAt'),
    finishedAt: timestamp('FinishedAt'),
    workflowId: text('WorkflowId'),
    stopReason: text('StopReason'),
    lastError: text('LastError'),
    clonedFromId: integer('ClonedFromId'),
    retargetOfId: integer('RetargetOfId'),
    retargetOutcome: text('RetargetOutcome'),
    /** How many times the failed recipients were retried (each retry a new run of the same workflow id). */
    retryCount: integer('RetryCount').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('IX_Campaigns_Status').on(t.status, t.id)],
);

/**
 * A campaign's recipients, fixed when it starts; the workflow pages through them by Id. A lead is
 * a recipient of a campaign once; its send's idempotency key is `campaign-<id>:<leadId>`.
 */
export const campaignRecipients = sqliteTable(
  'CampaignRecipients',
  {
    id: id(),
    campaignId: integer('CampaignId')
      .notNull()
      .references(() => campaigns.id),
    leadId: integer('LeadId').notNull(),
    status: text('Status', { enum: CAMPAIGN_RECIPIENT_STATUSES }).notNull().default('pending'),
    /** Why it was skipped (`opted_out`, `suppressed`, `lead_not_found`, ...) or why it failed. */
    reason: text('Reason'),
    errorCode: text('ErrorCode'),
    failureKind: text('FailureKind', { enum: FAILURE_KINDS }),
    messageId: integer('MessageId'),
    processedAt: timestamp('ProcessedAt'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('UX_CampaignRecipients_Campaign_Lead').on(t.campaignId, t.leadId),
    index('IX_CampaignRecipients_Campaign_Status').on(t.campaignId, t.status, t.id),
  ],
);

/**
 * Console sign-ins: an API key exchanged for a session cookie. Only the SHA-256 of the cookie's
 * token is stored; the session acts with its key's role and ends when the key is revoked.
 */
export const consoleSessions = sqliteTable(
  'ConsoleSessions',
  {
    id: id(),
    tokenHash: text('TokenHash').notNull().unique('UQ_ConsoleSessions_TokenHash'),
    apiKeyId: integer('ApiKeyId')
      .notNull()
      .references(() => apiKeys.id),
    createdAt: createdAt(),
    expiresAt: timestamp('ExpiresAt').notNull(),
    revokedAt: timestamp('RevokedAt'),
  },
  (t) => [index('IX_ConsoleSessions_ExpiresAt').on(t.expiresAt)],
);

/** Who changed what, when: one row per successful change made through the API or the console. */
export const auditLog = sqliteTable(
  'AuditLog',
  {
    id: id(),
    at: timestamp('At').notNull(),
    actorKeyId: integer('ActorKeyId').notNull(),
    actorName: text('ActorName').notNull(),
    actorRole: text('ActorRole', { enum: ROLES }).notNull(),
    /** `api_key` or `session`: how the actor was signed in. */
    via: text('Via').notNull(),
    method: text('Method').notNull(),
    /** The route pattern, e.g. `/sequences/:id`: what was changed. */
    route: text('Route').notNull(),
    /** The id in the path, when the route has one. */
    targetId: text('TargetId'),
    status: integer('Status').notNull(),
  },
  (t) => [index('IX_AuditLog_At').on(t.at)],
);

/**
 * The frequency cap's slots: at most N rows per lead (SlotNo 0 … N-1), each holding the last
 * marketing message that took it. A send takes a slot with one conditional UPDATE (free, or its
 * claim older than the period), so two sends racing for the last slot cannot both win.
 */
export const leadMarketingSlots = sqliteTable(
  'LeadMarketingSlots',
  {
    id: id(),
    leadId: integer('LeadId').notNull(),
    slotNo: integer('SlotNo').notNull(),
    claimedAt: timestamp('ClaimedAt'),
    /** The send's idempotency key: a retried send finds its own claim. */
    claimKey: text('ClaimKey'),
  },
  (t) => [uniqueIndex('UX_LeadMarketingSlots_Lead_Slot').on(t.leadId, t.slotNo)],
);

/**
 * The provider limit's ledger: per sender (`provider:number`), one row for each send the limit
 * allows in a minute (SlotNo 0 … N-1), holding when a send last took it, in ms since 1970 by the
 * database's clock. A send takes the sender's oldest row when that is more than a window old, in one
 * conditional UPDATE, so however many workers send, no window holds more than N sends.
 */
export const sendWindowSlots = sqliteTable(
  'SendWindowSlots',
  {
    id: id(),
    senderKey: text('SenderKey').notNull(),
    slotNo: integer('SlotNo').notNull(),
    claimedAtMs: integer('ClaimedAtMs').notNull().default(0),
  },
  (t) => [
    uniqueIndex('UX_SendWindowSlots_Sender_Slot').on(t.senderKey, t.slotNo),
    index('IX_SendWindowSlots_Sender_Claimed').on(t.senderKey, t.claimedAtMs),
  ],
);

/**
 * The sends' outcomes per day (of CreatedAt, as days since 1970-01-01 UTC) and reply hour: a cache
 * of the message log that src/db/queries/analytics-days.ts recomputes a day at a time, never adds to.
 */
export const analyticsSendDays = sqliteTable(
  'AnalyticsSendDays',
  {
    id: id(),
    day: integer('Day').notNull(),
    /** 1..720: the first reply came within this many hours and not one less; 0: every other send. */
    replyHour: integer('ReplyHour').notNull(),
    total: integer('Total').notNull(),
    sent: integer('Sent').notNull(),
    delivered: integer('Delivered').notNull(),
    read: integer('Read').notNull(),
    failed: integer('Failed').notNull(),
    pending: integer('Pending').notNull(),
  },
  (t) => [
    uniqueIndex('UX_AnalyticsSendDays_Day_ReplyHour').on(t.day, t.replyHour),
    index('IX_AnalyticsSendDays_Day_Counts').on(
      t.day,
      t.replyHour,
      t.total,
      t.sent,
      t.delivered,
      t.read,
      t.failed,
      t.pending,
    ),
  ],
);

/** One row: every send changed (UpdatedAt) at or before Watermark is counted in AnalyticsSendDays. */
export const analyticsRollupState = sqliteTable('AnalyticsRollupState', {
  id: id(),
  watermark: timestamp('Watermark').notNull(),
});
