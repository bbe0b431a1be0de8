/**
 * The SQL Server flavour of the schema: the same tables, columns, TS property names and JS value
 * types as `sqlite.ts` (the shared query functions rely on that). The DDL lives in
 * `../migrations/mssql/` and a test checks the two agree.
 *
 * Datetimes are datetime2(3), UTC (the mssql driver's default `useUTC`), matching SQLite's
 * millisecond timestamps. Key columns are bounded nvarchar so they can be indexed.
 */
import { sql } from 'drizzle-orm';
import { bigint, bit, datetime2, index, int, mssqlTable, nvarchar, uniqueIndex } from 'drizzle-orm/mssql-core';
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

const id = () => int('Id').identity().primaryKey();
const timestamp = (name: string) => datetime2(name, { mode: 'date', precision: 3 });
const createdAt = () =>
  timestamp('CreatedAt')
    .notNull()
    .$defaultFn(() => new Date());
const updatedAt = () =>
  timestamp('UpdatedAt')
    .notNull()
    .$defaultFn(() => new Date());
const flag = (name: string) => bit(name).notNull().default(false);
const str = (name: string, length: number) => nvarchar(name, { length });
const longText = (name: string) => nvarchar(name, { length: 'max' });

export const clients = mssqlTable(
  'Clients',
  {
    id: id(),
    name: str('Name', 200).notNull(),
    firstName: str('FirstName', 100),
    lastName: str('LastName', 100),
    phone: str('Phone', 32).notNull().unique('UQ_Clients_Phone'),
    email: str('Email', 320),
    status: str('Status', 50).notNull().default('New'),
    stage: str('Stage', 100).notNull().default('New'),
    optedOut: flag('OptedOut'),
    optedOutAt: timestamp('OptedOutAt'),
    timeZone: str('TimeZone', 64),
    lastContactedAt: timestamp('LastContactedAt'),
    customFields: longText('CustomFields').notNull().default('{}'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    marketingSuppressedAt: timestamp('MarketingSuppressedAt'),
    source: str('Source', 50).notNull().default('crm'),
    lastChannel: str('LastChannel', 30),
    infobipProfileId: str('InfobipProfileId', 100),
    lastSyncedAt: timestamp('LastSyncedAt'),
  },
  // Analytics: contacts by creation time (totals at a date, new per month).
  (t) => [index('IX_Clients_CreatedAt').on(t.createdAt)],
);

export const users = mssqlTable('Users', {
  id: id(),
  name: str('Name', 200).notNull(),
  email: str('Email', 320).notNull().unique('UQ_Users_Email'),
  role: str('Role', 50).notNull(),
  createdAt: createdAt(),
});

export const apiKeys = mssqlTable('ApiKeys', {
  id: id(),
  name: str('Name', 200).notNull(),
  keyHash: str('KeyHash', 64).notNull().unique('UQ_ApiKeys_KeyHash'),
  keyPrefix: str('KeyPrefix', 16).notNull(),
  createdAt: createdAt(),
  lastUsedAt: timestamp('LastUsedAt'),
  revokedAt: timestamp('RevokedAt'),
  role: nvarchar('Role', { length: 16, enum: ROLES }).notNull().default('admin'),
});

export const masterData = mssqlTable(
  'MasterData',
  {
    id: id(),
    category: str('Category', 100).notNull(),
    key: str('Key', 200).notNull(),
    value: longText('Value').notNull(),
    isSecret: flag('IsSecret'),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('UX_MasterData_Category_Key').on(t.category, t.key)],
);

export const messageMaster = mssqlTable(
  'MessageMaster',
  {
    id: id(),
    name: str('Name', 200).notNull(),
    language: str('Language', 20).notNull(),
    category: str('Category', 50),
    approvalStatus: str('ApprovalStatus', 30).notNull().default('Approved'),
    headerType: nvarchar('HeaderType', { length: 20, enum: HEADER_TYPES }).notNull().default('none'),
    headerText: str('HeaderText', 1000),
    body: longText('Body').notNull(),
    footer: str('Footer', 200),
    buttons: longText('Buttons').notNull().default('[]'),
    provider: str('Provider', 50),
    providerTemplateId: str('ProviderTemplateId', 200),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    archivedAt: timestamp('ArchivedAt'),
    headerMediaUrl: str('HeaderMediaUrl', 2048),
    rejectionReason: str('RejectionReason', 1000),
    source: str('Source', 50).notNull().default('crm'),
    lastSyncedAt: timestamp('LastSyncedAt'),
    removedUpstreamAt: timestamp('RemovedUpstreamAt'),
    qualityScore: str('QualityScore', 20),
  },
  (t) => [uniqueIndex('UX_MessageMaster_Name_Language').on(t.name, t.language)],
);

export const templateSyncRuns = mssqlTable('TemplateSyncRuns', {
  id: id(),
  provider: str('Provider', 50).notNull(),
  trigger: str('Trigger', 20).notNull(),
  status: str('Status', 20).notNull(),
  startedAt: timestamp('StartedAt').notNull(),
  finishedAt: timestamp('FinishedAt'),
  fetched: int('Fetched').notNull().default(0),
  created: int('Created').notNull().default(0),
  updated: int('Updated').notNull().default(0),
  unchanged: int('Unchanged').notNull().default(0),
  removed: int('Removed').notNull().default(0),
  errorCount: int('ErrorCount').notNull().default(0),
  errors: longText('Errors').notNull().default('[]'),
});

export const webhookEvents = mssqlTable(
  'WebhookEvents',
  {
    id: id(),
    provider: str('Provider', 50).notNull(),
    dedupeKey: str('DedupeKey', 400).notNull(),
    eventType: str('EventType', 100).notNull(),
    providerMessageId: str('ProviderMessageId', 200),
    messageId: int('MessageId'),
    outcome: str('Outcome', 30).notNull(),
    receivedAt: timestamp('ReceivedAt').notNull(),
    payload: longText('Payload').notNull(),
    /** A status event as parsed at receipt (JSON), applied by the processor while Outcome is 'pending'. */
    statusEvent: longText('StatusEvent'),
  },
  (t) => [
    uniqueIndex('UX_WebhookEvents_Provider_DedupeKey').on(t.provider, t.dedupeKey),
    index('IX_WebhookEvents_ProviderMessageId').on(t.providerMessageId),
    // The processor's queue: only rows still to apply are in it.
    index('IX_WebhookEvents_Pending')
      .on(t.id)
      .where(sql`[Outcome] = N'pending'`),
  ],
);

export const dripSequences = mssqlTable('DripSequence', {
  id: id(),
  name: str('Name', 200).notNull(),
  description: str('Description', 2000),
  stopOnReply: flag('StopOnReply'),
  version: int('Version').notNull().default(1),
  archivedAt: timestamp('ArchivedAt'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  sender: str('Sender', 32),
  /** JSON SequenceSendRules (src/delivery): window, quiet days, exits, transactional; null = the account's defaults. */
  sendRules: longText('SendRules'),
});

export const dripSequenceSteps = mssqlTable(
  'DripSequenceSteps',
  {
    id: id(),
    sequenceId: int('SequenceId')
      .notNull()
      .references(() => dripSequences.id),
    stepOrder: int('StepOrder').notNull(),
    templateName: str('TemplateName', 200).notNull(),
    templateLanguage: str('TemplateLanguage', 20).notNull(),
    delaySeconds: int('DelaySeconds').notNull(),
    variables: longText('Variables').notNull(),
  },
  (t) => [uniqueIndex('UX_DripSequenceSteps_Sequence_Order').on(t.sequenceId, t.stepOrder)],
);

export const leadDripAssignments = mssqlTable(
  'LeadDripAssignment',
  {
    id: id(),
    leadId: int('LeadId')
      .notNull()
      .references(() => clients.id),
    sequenceId: int('SequenceId')
      .notNull()
      .references(() => dripSequences.id),
    sequenceVersion: int('SequenceVersion').notNull(),
    stepsSnapshot: longText('StepsSnapshot').notNull(),
    status: nvarchar('Status', { length: 20, enum: ASSIGNMENT_STATUSES }).notNull(),
    nextStep: int('NextStep').notNull().default(0),
    totalSteps: int('TotalSteps').notNull(),
    nextSendAt: timestamp('NextSendAt'),
    stopReason: str('StopReason', 200),
    lastError: str('LastError', 2000),
    workflowId: str('WorkflowId', 200),
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
      .where(sql`[Status] IN (N'pending', N'active', N'paused')`),
    index('IX_LeadDripAssignment_Sequence_Status').on(t.sequenceId, t.status),
    index('IX_LeadDripAssignment_Lead_Status').on(t.leadId, t.status),
    // A funnel's assignments by outcome, read from the index alone (migration 0051).
    index('IX_LeadDripAssignment_Sequence_Outcome').on(t.sequenceId, t.status, t.stopReason, t.totalSteps),
  ],
);

export const dripAssignmentEvents = mssqlTable(
  'DripAssignmentEvents',
  {
    id: id(),
    assignmentId: int('AssignmentId')
      .notNull()
      .references(() => leadDripAssignments.id),
    stepIndex: int('StepIndex'),
    event: nvarchar('Event', { length: 30, enum: ASSIGNMENT_EVENTS }).notNull(),
    detail: longText('Detail'),
    at: timestamp('At')
      .notNull()
      .$defaultFn(() => new Date()),
  },
  (t) => [index('IX_DripAssignmentEvents_Assignment').on(t.assignmentId, t.id)],
);

/** See `whatsAppMessages` in sqlite.ts for why this table is both the log and the send ledger. */
export const whatsAppMessages = mssqlTable(
  'WhatsAppMessages',
  {
    id: id(),
    idempotencyKey: str('IdempotencyKey', 400),
    leadId: int('LeadId'),
    direction: nvarchar('Direction', { length: 10, enum: MESSAGE_DIRECTIONS }).notNull(),
    provider: str('Provider', 50).notNull(),
    providerMessageId: str('ProviderMessageId', 200),
    /** E.164, or a business-scoped user id (up to 150 characters) for a user WhatsApp names no number for. */
    phone: str('Phone', 160).notNull(),
    countryCode: str('CountryCode', 8),
    templateName: str('TemplateName', 200),
    templateLanguage: str('TemplateLanguage', 20),
    messageContent: longText('MessageContent').notNull().default('{}'),
    mediaUrl: str('MediaUrl', 2000),
    referenceType: nvarchar('ReferenceType', { length: 20, enum: REFERENCE_TYPES }),
    referenceId: str('ReferenceId', 100),
    workflowId: str('WorkflowId', 200),
    stepIndex: int('StepIndex'),
    callbackData: str('CallbackData', 400),
    campaignId: str('CampaignId', 100),
    status: nvarchar('Status', { length: 20, enum: MESSAGE_STATUSES }).notNull(),
    attempts: int('Attempts').notNull().default(0),
    attemptStartedAt: timestamp('AttemptStartedAt'),
    sentAt: timestamp('SentAt'),
    deliveredAt: timestamp('DeliveredAt'),
    readAt: timestamp('ReadAt'),
    failedAt: timestamp('FailedAt'),
    errorCode: str('ErrorCode', 100),
    errorMessage: str('ErrorMessage', 2000),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    sender: str('Sender', 32),
    firstReplyAt: timestamp('FirstReplyAt'),
    responseMs: bigint('ResponseMs', { mode: 'number' }),
  },
  (t) => [
    // Filtered so incoming messages (no key) do not collide: SQL Server treats NULLs as equal in
    // a plain unique index.
    uniqueIndex('UX_WhatsAppMessages_IdempotencyKey')
      .on(t.idempotencyKey)
      .where(sql`[IdempotencyKey] IS NOT NULL`),
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
      .where(sql`[Status] = N'failed'`),
    // Migration 0053: the answered inbound messages in ResponseMs order, so a percentile of a long
    // period walks this index instead of sorting the period (getResponseTimes).
    index('IX_WhatsAppMessages_Incoming_ResponseMs')
      .on(t.responseMs, t.createdAt, t.leadId, t.direction)
      .where(sql`[Direction] = N'incoming' and [ResponseMs] is not null and [LeadId] is not null`),
  ],
);

export const ivrCallLog = mssqlTable(
  'IVRCallLog',
  {
    id: id(),
    callId: str('CallId', 200).notNull(),
    callerNumber: str('CallerNumber', 64).notNull(),
    callerPhone: str('CallerPhone', 32).notNull(),
    calledNumber: str('CalledNumber', 64).notNull(),
    calledAt: timestamp('CalledAt').notNull(),
    leadId: int('LeadId').notNull(),
    leadCreated: flag('LeadCreated'),
    status: nvarchar('Status', { length: 20, enum: IVR_CALL_STATUSES }).notNull().default('received'),
    flowRunId: int('FlowRunId'),
    processedAt: timestamp('ProcessedAt'),
    note: str('Note', 1000),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('UX_IVRCallLog_CallId').on(t.callId),
    index('IX_IVRCallLog_Received')
      .on(t.id)
      .where(sql`[Status] = N'received'`),
  ],
);

export const ctaFlows = mssqlTable(
  'CtaFlows',
  {
    id: id(),
    name: str('Name', 200).notNull(),
    templateName: str('TemplateName', 512).notNull(),
    templateLanguage: str('TemplateLanguage', 20).notNull(),
    projectName: str('ProjectName', 200).notNull(),
    bodyVariables: longText('BodyVariables').notNull().default('[]'),
    interestedButtonIndex: int('InterestedButtonIndex').notNull().default(0),
    notInterestedButtonIndex: int('NotInterestedButtonIndex').notNull().default(1),
    reminderAfterSeconds: int('ReminderAfterSeconds').notNull(),
    closeAfterSeconds: int('CloseAfterSeconds').notNull(),
    tokenTtlSeconds: int('TokenTtlSeconds').notNull(),
    brochureTemplateName: str('BrochureTemplateName', 512).notNull(),
    brochureTemplateLanguage: str('BrochureTemplateLanguage', 20).notNull(),
    brochureUrl: str('BrochureUrl', 2048),
    brochureFileName: str('BrochureFileName', 255),
    followUpCallAfterSeconds: int('FollowUpCallAfterSeconds').notNull(),
    ivrNumber: str('IvrNumber', 64),
    archivedAt: timestamp('ArchivedAt'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    sender: str('Sender', 32),
  },
  (t) => [uniqueIndex('UX_CtaFlows_Name').on(t.name)],
);

export const ctaFlowRuns = mssqlTable(
  'CtaFlowRuns',
  {
    id: id(),
    flowId: int('FlowId')
      .notNull()
      .references(() => ctaFlows.id),
    leadId: int('LeadId').notNull(),
    workflowId: str('WorkflowId', 200).notNull(),
    trigger: str('Trigger', 20).notNull(),
    ivrCallId: int('IvrCallId'),
    status: nvarchar('Status', { length: 20, enum: CTA_RUN_STATUSES }).notNull().default('pending'),
    decision: nvarchar('Decision', { length: 20, enum: CTA_ACTIONS }),
    decidedAt: timestamp('DecidedAt'),
    sentAt: timestamp('SentAt'),
    remindedAt: timestamp('RemindedAt'),
    closedAt: timestamp('ClosedAt'),
    lastError: str('LastError', 1000),
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

export const ctaInteractions = mssqlTable(
  'CtaInteractions',
  {
    id: id(),
    runId: int('RunId')
      .notNull()
      .references(() => ctaFlowRuns.id),
    flowId: int('FlowId').notNull(),
    leadId: int('LeadId').notNull(),
    action: nvarchar('Action', { length: 20, enum: CTA_ACTIONS }).notNull(),
    result: nvarchar('Result', { length: 20, enum: CTA_CLICK_RESULTS }).notNull(),
    userAgent: str('UserAgent', 512),
    clickedAt: timestamp('ClickedAt').notNull(),
  },
  (t) => [
    index('IX_CtaInteractions_Flow_ClickedAt').on(t.flowId, t.clickedAt),
    index('IX_CtaInteractions_Run').on(t.runId),
  ],
);

export const leadNotes = mssqlTable(
  'LeadNotes',
  {
    id: id(),
    leadId: int('LeadId').notNull(),
    body: str('Body', 2000).notNull(),
    source: str('Source', 50).notNull(),
    dedupeKey: str('DedupeKey', 300),
    createdAt: createdAt(),
  },
  (t) => [
    index('IX_LeadNotes_Lead').on(t.leadId, t.id),
    uniqueIndex('UX_LeadNotes_DedupeKey')
      .on(t.dedupeKey)
      .where(sql`[DedupeKey] IS NOT NULL`),
  ],
);

export const leadTasks = mssqlTable(
  'LeadTasks',
  {
    id: id(),
    leadId: int('LeadId').notNull(),
    kind: str('Kind', 50).notNull(),
    title: str('Title', 500).notNull(),
    dueAt: timestamp('DueAt').notNull(),
    status: str('Status', 20).notNull().default('open'),
    dedupeKey: str('DedupeKey', 300),
    createdAt: createdAt(),
    completedAt: timestamp('CompletedAt'),
  },
  (t) => [
    index('IX_LeadTasks_Lead').on(t.leadId, t.id),
    index('IX_LeadTasks_Status_DueAt').on(t.status, t.dueAt),
    uniqueIndex('UX_LeadTasks_DedupeKey')
      .on(t.dedupeKey)
      .where(sql`[DedupeKey] IS NOT NULL`),
  ],
);

export const infobipSyncRuns = mssqlTable(
  'InfobipSyncRuns',
  {
    id: id(),
    runKey: str('RunKey', 100).notNull(),
    workflowId: str('WorkflowId', 200).notNull(),
    trigger: str('Trigger', 20).notNull(),
    scheduleId: str('ScheduleId', 200),
    status: nvarchar('Status', { length: 20, enum: SYNC_RUN_STATUSES }).notNull().default('running'),
    options: longText('Options').notNull(),
    dryRun: flag('DryRun'),
    windowFrom: timestamp('WindowFrom').notNull(),
    windowTo: timestamp('WindowTo').notNull(),
    startedAt: timestamp('StartedAt').notNull(),
    finishedAt: timestamp('FinishedAt'),
    fetched: int('Fetched').notNull().default(0),
    matched: int('Matched').notNull().default(0),
    created: int('Created').notNull().default(0),
    updated: int('Updated').notNull().default(0),
    skipped: int('Skipped').notNull().default(0),
    invalid: int('Invalid').notNull().default(0),
    errorCount: int('ErrorCount').notNull().default(0),
    failure: str('Failure', 2000),
  },
  (t) => [
    uniqueIndex('UX_InfobipSyncRuns_RunKey').on(t.runKey),
    index('IX_InfobipSyncRuns_Status_WindowTo').on(t.status, t.windowTo),
  ],
);

export const infobipSyncPages = mssqlTable(
  'InfobipSyncPages',
  {
    id: id(),
    runId: int('RunId')
      .notNull()
      .references(() => infobipSyncRuns.id),
    source: str('Source', 20).notNull(),
    pageNo: int('PageNo').notNull(),
    fetched: int('Fetched').notNull().default(0),
    matched: int('Matched').notNull().default(0),
    created: int('Created').notNull().default(0),
    updated: int('Updated').notNull().default(0),
    skipped: int('Skipped').notNull().default(0),
    invalid: int('Invalid').notNull().default(0),
    errors: longText('Errors').notNull().default('[]'),
    preview: longText('Preview'),
    completedAt: timestamp('CompletedAt').notNull(),
  },
  (t) => [uniqueIndex('UX_InfobipSyncPages_Run_Source_Page').on(t.runId, t.source, t.pageNo)],
);

export const customFieldDefinitions = mssqlTable(
  'CustomFieldDefinitions',
  {
    id: id(),
    name: str('Name', 64).notNull(),
    type: nvarchar('Type', { length: 16, enum: CUSTOM_FIELD_TYPES }).notNull(),
    allowedValues: longText('AllowedValues').notNull().default('[]'),
    description: str('Description', 500),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('UX_CustomFieldDefinitions_Name').on(t.name)],
);

export const segments = mssqlTable(
  'Segments',
  {
    id: id(),
    name: str('Name', 200).notNull(),
    description: str('Description', 1000),
    filter: longText('Filter').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('UX_Segments_Name').on(t.name)],
);

export const campaigns = mssqlTable(
  'Campaigns',
  {
    id: id(),
    name: str('Name', 200).notNull(),
    status: nvarchar('Status', { length: 20, enum: CAMPAIGN_STATUSES }).notNull().default('draft'),
    templateName: str('TemplateName', 512).notNull(),
    templateLanguage: str('TemplateLanguage', 20).notNull(),
    variables: longText('Variables').notNull().default('{}'),
    segmentId: int('SegmentId').references(() => segments.id),
    leadIds: longText('LeadIds'),
    scheduledAt: timestamp('ScheduledAt'),
    startedAt: timestamp('StartedAt'),
    finishedAt: timestamp('FinishedAt'),
    workflowId: str('WorkflowId', 200),
    stopReason: str('StopReason', 200),
    lastError: str('LastError', 2000),
    clonedFromId: int('ClonedFromId'),
    retargetOfId: int('RetargetOfId'),
    retargetOutcome: str('RetargetOutcome', 30),
    retryCount: int('RetryCount').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('IX_Campaigns_Status').on(t.status, t.id)],
);

export const campaignRecipients = mssqlTable(
  'CampaignRecipients',
  {
    id: id(),
    campaignId: int('CampaignId')
      .notNull()
      .references(() => campaigns.id),
    leadId: int('LeadId').notNull(),
    status: nvarchar('Status', { length: 20, enum: CAMPAIGN_RECIPIENT_STATUSES }).notNull().default('pending'),
    reason: str('Reason', 100),
    errorCode: str('ErrorCode', 100),
    failureKind: nvarchar('FailureKind', { length: 20, enum: FAILURE_KINDS }),
    messageId: int('MessageId'),
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
export const consoleSessions = mssqlTable(
  'ConsoleSessions',
  {
    id: id(),
    tokenHash: str('TokenHash', 64).notNull().unique('UQ_ConsoleSessions_TokenHash'),
    apiKeyId: int('ApiKeyId')
      .notNull()
      .references(() => apiKeys.id),
    createdAt: createdAt(),
    expiresAt: timestamp('ExpiresAt').notNull(),
    revokedAt: timestamp('RevokedAt'),
  },
  (t) => [index('IX_ConsoleSessions_ExpiresAt').on(t.expiresAt)],
);

/** Who changed what, when: one row per successful change made through the API or the console. */
export const auditLog = mssqlTable(
  'AuditLog',
  {
    id: id(),
    at: timestamp('At').notNull(),
    actorKeyId: int('ActorKeyId').notNull(),
    actorName: str('ActorName', 200).notNull(),
    actorRole: nvarchar('ActorRole', { length: 16, enum: ROLES }).notNull(),
    via: str('Via', 16).notNull(),
    method: str('Method', 10).notNull(),
    route: str('Route', 200).notNull(),
    targetId: str('TargetId', 100),
    status: int('Status').notNull(),
  },
  (t) => [index('IX_AuditLog_At').on(t.at)],
);

/** The frequency cap's slots (see sqlite.ts). */
export const leadMarketingSlots = mssqlTable(
  'LeadMarketingSlots',
  {
    id: id(),
    leadId: int('LeadId').notNull(),
    slotNo: int('SlotNo').notNull(),
    claimedAt: timestamp('ClaimedAt'),
    claimKey: str('ClaimKey', 300),
  },
  (t) => [uniqueIndex('UX_LeadMarketingSlots_Lead_Slot').on(t.leadId, t.slotNo)],
);

/** See `sendWindowSlots` in sqlite.ts. */
export const sendWindowSlots = mssqlTable(
  'SendWindowSlots',
  {
    id: id(),
    senderKey: str('SenderKey', 200).notNull(),
    slotNo: int('SlotNo').notNull(),
    claimedAtMs: bigint('ClaimedAtMs', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    uniqueIndex('UX_SendWindowSlots_Sender_Slot').on(t.senderKey, t.slotNo),
    index('IX_SendWindowSlots_Sender_Claimed').on(t.senderKey, t.claimedAtMs),
  ],
);

/** See `analyticsSendDays` in sqlite.ts. */
export const analyticsSendDays = mssqlTable(
  'AnalyticsSendDays',
  {
    id: id(),
    day: int('Day').notNull(),
    replyHour: int('ReplyHour').notNull(),
    total: int('Total').notNull(),
    sent: int('Sent').notNull(),
    delivered: int('Delivered').notNull(),
    read: int('Read').notNull(),
    failed: int('Failed').notNull(),
    pending: int('Pending').notNull(),
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

/** See `analyticsRollupState` in sqlite.ts. */
export const analyticsRollupState = mssqlTable('AnalyticsRollupState', {
  id: id(),
  watermark: timestamp('Watermark').notNull(),
});
