import { activityInfo, ApplicationFailure, CancelledFailure, Context, heartbeat } from '@temporalio/activity';
import type { CountryCode } from 'libphonenumber-js';
import { withTransaction, type Db } from '../db/client';
import {
  applyInfobipContacts,
  finishInfobipSyncRun,
  getInfobipSyncPage,
  getInfobipSyncRun,
  refreshInfobipSyncRunTotals,
  upsertInfobipSyncPage,
  type InfobipContact,
  type InfobipSyncRecordError,
} from '../db/queries';
import { providerReadFailure } from '../provider-failures';
import type {
  InfobipClient,
  InfobipPeopleCursor,
  InfobipPerson,
  InfobipRecord,
  InfobipSmsLog,
} from '../providers/infobip';
import { maskPhone } from '../logging/redact';
import { normalizePhone } from '../providers/phone';
import type {
  InfobipPageSource,
  InfobipStatusRule,
  InfobipSyncCounts,
  InfobipSyncMode,
  InfobipSyncOptions,
  InfobipSyncTrigger,
} from './contract';
import { InfobipSyncWindowError, openInfobipSyncRun, resolvedOptionsOf } from './run';
import { defaultCountryOf, readInteraktOptions } from '../settings/provider-settings';

/** Failure types the workflow must not retry: a retry would get the same answer. */
export const INFOBIP_SYNC_CONFIG_ERROR = 'ProviderConfigError';
export const INFOBIP_SYNC_REFUSED = 'InfobipSyncRefused';
export const INFOBIP_SYNC_INVALID_WINDOW = 'InfobipSyncInvalidWindow';
export const INFOBIP_SYNC_RUN_NOT_FOUND = 'InfobipSyncRunNotFound';

export interface InfobipSyncActivityDeps {
  db: Db;
  /** Asked once per activity call, so a rotated key or base URL is used by the next call. */
  getInfobipClient: () => InfobipClient | Promise<InfobipClient>;
  /** Country assumed for a phone written without its country code. */
  defaultCountry: CountryCode;
  now?: () => Date;
}

export interface StartInfobipSyncRunInput {
  runKey: string;
  workflowId: string;
  trigger: InfobipSyncTrigger;
  scheduleId?: string;
  options: InfobipSyncOptions;
}

/** The lists a run reads, each with its own window (logs may start later: they reach back 48 h only). */
export interface InfobipSyncPlan {
  runId: number;
  status: 'running' | 'completed' | 'failed';
  windowFrom: string;
  windowTo: string;
  sources: Array<{ source: InfobipPageSource; since: string; until: string }>;
  warnings: string[];
  counts: InfobipSyncCounts;
}

/** Where a list is read next; heartbeated after every page so a retried call resumes there. */
export interface InfobipPagePosition {
  source: InfobipPageSource;
  /** 1-based count of the pages read so far plus one: the key of the next page's InfobipSyncPages row. */
  pageNo: number;
  /** The logs' cursor for that page (null for the first page and for People). */
  cursor: string | null;
  /** People: where that page starts (keyset, see InfobipPeopleCursor); absent or null for the first page. */
  after?: InfobipPeopleCursor | null;
}

export interface SyncInfobipPagesInput {
  runId: number;
  from: InfobipPagePosition;
  /** Pages to read in this call before reporting back to the workflow. */
  maxPages: number;
  pageSize: number;
  since: string;
  until: string;
  channels?: string[];
  mode: InfobipSyncMode;
  dryRun: boolean;
  statusRule?: InfobipStatusRule;
}

export interface SyncInfobipPagesResult {
  /** Null when the list has no more pages. */
  next: InfobipPagePosition | null;
  /** Pages of this list completed so far, over every call. */
  pagesCompleted: number;
  /** The run's totals: the sum of its recorded pages. */
  totals: InfobipSyncCounts;
}

export function createInfobipSyncActivities(deps: InfobipSyncActivityDeps) {
  const now = deps.now ?? (() => new Date());

  return {
    /** Opens the run (or finds the one the API opened under the same key) and says what to read. */
    async startInfobipSyncRun(input: StartInfobipSyncRunInput): Promise<InfobipSyncPlan> {
      let opened;
      try {
        opened = await openInfobipSyncRun(deps.db, { ...input, now: now() });
      } catch (error) {
        if (error instanceof InfobipSyncWindowError)
          throw ApplicationFailure.create({
            type: INFOBIP_SYNC_INVALID_WINDOW,
            message: error.message,
            nonRetryable: true,
          });
        throw error;
      }
      const { run } = opened;
      const options = resolvedOptionsOf(run);
      const sources: InfobipSyncPlan['sources'] = [];
      if (options.source !== 'logs') sources.push({ source: 'people', since: options.since, until: options.until });
      if (options.source !== 'people' && options.logsSince)
        sources.push({ source: 'logs', since: options.logsSince, until: options.until });
      const { fetched, matched, created, updated, skipped, invalid, errorCount } = run;
      return {
        runId: run.id,
        status: run.status,
        windowFrom: options.since,
        windowTo: options.until,
        sources,
        warnings: options.warnings ?? [],
        counts: { fetched, matched, created, updated, skipped, invalid, errorCount },
      };
    },

    /**
     * Reads up to `maxPages` pages of one list and applies each in its own transaction, together
     * with its InfobipSyncPages row. A page whose row exists was applied by an earlier attempt
     * (its heartbeat was lost with the worker): it is read again only to learn where the next page
     * starts, and neither re-applied nor counted again. Heartbeats the next position after every
     * page; a retried call resumes from the last one the server received.
     */
    async syncInfobipPages(input: SyncInfobipPagesInput): Promise<SyncInfobipPagesResult> {
      let position: InfobipPagePosition | null = restorePosition(activityInfo().heartbeatDetails, input.from);
      const source = input.from.source;
      const window = { since: new Date(input.since), until: new Date(input.until) };
      try {
        const client = await deps.getInfobipClient();
        // A run's People pass starts by checking that the attribute it filters by can be filtered
        // by a window at all: a text attribute would be refused, or worse, compared as text.
        if (source === 'people' && position?.pageNo === 1) await client.checkPeopleAttributes();
        // The country numbers without one are read in: the settings' (as for leads and IVR calls), else the deployment's.
        const country = defaultCountryOf(await readInteraktOptions(deps.db), deps.defaultCountry);
        for (let read = 0; position && read < input.maxPages; read++) {
          const page: ReadPage = await readPage(client, position, window, input, country);
          // A cancelled run (delivered with a heartbeat's answer) writes nothing more.
          if (Context.current().cancellationSignal.aborted) throw new CancelledFailure('the sync run was cancelled');
          const key = { runId: input.runId, source, pageNo: position.pageNo };
          await withTransaction(deps.db, async (tx) => {
            if (await getInfobipSyncPage(tx, key)) return;
            const outcome = await applyInfobipContacts(tx, {
              contacts: page.contacts,
              mode: input.mode,
              dryRun: input.dryRun,
              statusRule: input.statusRule,
              now: now(),
            });
            await upsertInfobipSyncPage(tx, {
              ...key,
              fetched: page.fetched,
              matched: outcome.matched,
              created: outcome.created,
              updated: outcome.updated,
              skipped: outcome.skipped,
              invalid: page.errors.length,
              errors: page.errors,
              preview: input.dryRun ? outcome.preview : null,
              completedAt: now(),
            });
          });
          position = page.hasMore
            ? {
                source,
                pageNo: position.pageNo + 1,
                cursor: page.nextCursor,
                ...(page.nextAfter && { after: page.nextAfter }),
              }
            : null;
          heartbeat(position ?? { ...key, cursor: null, done: true });
          if (!page.hasMore) {
            const totals = await refreshInfobipSyncRunTotals(deps.db, input.runId);
            return { next: null, pagesCompleted: key.pageNo, totals };
          }
        }
      } catch (error) {
        throw providerReadFailure(error, { config: INFOBIP_SYNC_CONFIG_ERROR, permanent: INFOBIP_SYNC_REFUSED });
      }
      const totals = await refreshInfobipSyncRunTotals(deps.db, input.runId);
      return { next: position, pagesCompleted: (position?.pageNo ?? 1) - 1, totals };
    },

    /** Closes the run as completed with the sum of its pages. */
    async finishInfobipSyncRun({ runId }: { runId: number }): Promise<InfobipSyncCounts> {
      await finishInfobipSyncRun(deps.db, runId, { status: 'completed', finishedAt: now() });
      const run = await getInfobipSyncRun(deps.db, runId);
      if (!run)
        throw ApplicationFailure.nonRetryable(`Infobip sync run ${runId} does not exist`, INFOBIP_SYNC_RUN_NOT_FOUND);
      const { fetched, matched, created, updated, skipped, invalid, errorCount } = run;
      return { fetched, matched, created, updated, skipped, invalid, errorCount };
    },

    /** Closes a run that failed for good: what its pages counted stays, the reason is recorded. */
    async failInfobipSyncRun({ runId, reason }: { runId: number; reason: string }): Promise<void> {
      await finishInfobipSyncRun(deps.db, runId, { status: 'failed', failure: reason, finishedAt: now() });
    },
  };
}

export type InfobipSyncActivities = ReturnType<typeof createInfobipSyncActivities>;

/** A heartbeat names the next page; after the last page it says the list is done. */
function restorePosition(details: unknown, from: InfobipPagePosition): InfobipPagePosition | null {
  const saved = details as (Partial<InfobipPagePosition> & { done?: boolean }) | undefined;
  if (!saved || saved.source !== from.source || typeof saved.pageNo !== 'number') return from;
  if (saved.done) return null;
  return {
    source: from.source,
    pageNo: saved.pageNo,
    cursor: saved.cursor ?? null,
    ...(saved.after && { after: saved.after }),
  };
}

interface ReadPage {
  fetched: number;
  contacts: InfobipContact[];
  errors: InfobipSyncRecordError[];
  hasMore: boolean;
  nextCursor: string | null;
  nextAfter: InfobipPeopleCursor | null;
}

async function readPage(
  client: InfobipClient,
  position: InfobipPagePosition,
  window: { since: Date; until: Date },
  input: SyncInfobipPagesInput,
  country: CountryCode,
): Promise<ReadPage> {
  if (position.source === 'people') {
    const page = await client.listPeople({
      contactedSince: window.since,
      contactedUntil: window.until,
      limit: input.pageSize,
      channels: input.channels,
      after: position.after ?? null,
    });
    const read = readRecords(
      page.records,
      (person) => personContact(person, country),
      (raw, i) => recordName(raw, ['id'], position, i),
    );
    // A page may hold nobody new (all of one instant, read before) and still be followed by more.
    return {
      ...read,
      fetched: page.records.length,
      hasMore: page.next !== null,
      nextCursor: null,
      nextAfter: page.next,
    };
  }
  const page = await client.listSmsLogs({
    sentSince: window.since,
    sentUntil: window.until,
    limit: input.pageSize,
    cursor: position.cursor,
  });
  const read = readRecords(
    page.records,
    (log) => logContact(log, country),
    (raw, i) => recordName(raw, ['messageId'], position, i),
  );
  return {
    ...read,
    fetched: page.records.length,
    hasMore: page.nextCursor !== null && page.records.length > 0,
    nextCursor: page.nextCursor,
    nextAfter: null,
  };
}

type ContactOrError = { ok: true; contact: InfobipContact } | { ok: false; record: string; message: string };

function readRecords<T>(
  records: InfobipRecord<T>[],
  toContact: (value: T) => ContactOrError,
  nameOf: (raw: unknown, index: number) => string,
): Pick<ReadPage, 'contacts' | 'errors'> {
  const contacts: InfobipContact[] = [];
  const errors: InfobipSyncRecordError[] = [];
  records.forEach((record, index) => {
    if (!record.ok) {
      errors.push({ record: nameOf(record.raw, index), message: `malformed record: ${record.reason}` });
      return;
    }
    const read = toContact(record.value);
    if (read.ok) contacts.push(read.contact);
    else errors.push({ record: read.record, message: read.message });
  });
  return { contacts, errors };
}

function recordName(raw: unknown, idFields: string[], position: InfobipPagePosition, index: number): string {
  if (raw && typeof raw === 'object') {
    for (const field of idFields) {
      const value = (raw as Record<string, unknown>)[field];
      if (typeof value === 'string' || typeof value === 'number')
        return `${position.source === 'people' ? 'person' : 'log'} ${value}`;
    }
  }
  return `${position.source} page ${position.pageNo} record ${index + 1}`;
}

/** A person's first phone that is a valid mobile: one person is one lead. */
function personContact(person: InfobipPerson, country: CountryCode): ContactOrError {
  const record = `person ${person.profileId}`;
  if (person.phones.length === 0)
    return { ok: false, record, message: 'invalid phone: the person has no phone number' };
  const reasons: string[] = [];
  for (const raw of person.phones) {
    const phone = toE164(raw, country);
    if (!phone.ok) {
      reasons.push(phone.reason);
      continue;
    }
    return {
      ok: true,
      contact: {
        phone: phone.e164,
        contactedAt: person.lastContactedAt ?? null,
        channel: person.lastChannel?.toLowerCase() ?? null,
        profileId: person.profileId,
        firstName: person.firstName ?? null,
        lastName: person.lastName ?? null,
      },
    };
  }
  return { ok: false, record, message: `invalid phone: ${reasons.join('; ')}` };
}

function logContact(log: InfobipSmsLog, country: CountryCode): ContactOrError {
  const phone = toE164(log.destination, country);
  if (!phone.ok) return { ok: false, record: `log ${log.messageId}`, message: `invalid phone: ${phone.reason}` };
  return {
    ok: true,
    contact: {
      phone: phone.e164,
      contactedAt: log.sentAt,
      channel: 'sms',
      profileId: null,
      firstName: null,
      lastName: null,
    },
  };
}

/**
 * Infobip writes numbers internationally without the `+` (`919812345678`), so a bare run of 11+
 * digits is read as international first; anything else as a person typed it. Reasons name the
 * number masked.
 */
function toE164(raw: string, country: CountryCode): { ok: true; e164: string } | { ok: false; reason: string } {
  const text = raw.trim();
  if (/^[1-9]\d{10,14}$/.test(text)) {
    const international = normalizePhone(`+${text}`, country);
    if (international.ok) return international;
  }
  const normalized = normalizePhone(text, country);
  if (normalized.ok) return normalized;
  return { ok: false, reason: text === '' ? normalized.reason : normalized.reason.split(text).join(maskPhone(text)) };
}
