/**
 * The live message log's source: a tail of WhatsAppMessages by (UpdatedAt, Id) cursor.
 *
 * Message rows change in two processes (the worker records sends, the API applies webhooks), so
 * an in-process event bus would miss half of them; the database is the one place both meet. One
 * poller per API process reads every change once and fans it out to the open streams, each
 * filtered by its lead; it runs only while at least one stream is open.
 *
 * Rows are read only once they are `settleMs` old. UpdatedAt is stamped by the writer before its
 * statement queues for SQLite's single write lock, so a row can commit slightly after a newer
 * stamp was already read; waiting that long before reading an instant means such a row is not
 * skipped by the cursor. The price is that much latency on the live log.
 */
import type { Db } from '../db/client';
import { listMessagesChangedSince, type MessageLogRow } from '../db/queries';
import { createLogger, runOutsideRequestScope, type Logger } from '../logging/logger';

/** A position in the change stream: every row at or before (at, id) was delivered. */
export interface FeedCursor {
  /** UpdatedAt, epoch ms. */
  at: number;
  id: number;
}

/** "Everything up to and including this millisecond." */
const WHOLE_MS = Number.MAX_SAFE_INTEGER;

export const cursorOf = (row: Pick<MessageLogRow, 'updatedAt' | 'id'>): FeedCursor => ({
  at: row.updatedAt.getTime(),
  id: row.id,
});
export const formatCursor = (cursor: FeedCursor): string => `${cursor.at}-${cursor.id}`;

/** Parses an SSE `Last-Event-ID`; undefined when absent or not one of ours. */
export function parseCursor(text: string | undefined): FeedCursor | undefined {
  const match = /^(\d{1,16})-(\d{1,16})$/.exec(text?.trim() ?? '');
  if (!match) return undefined;
  const cursor = { at: Number(match[1]), id: Number(match[2]) };
  return Number.isSafeInteger(cursor.at) && Number.isSafeInteger(cursor.id) ? cursor : undefined;
}

const compare = (a: FeedCursor, b: FeedCursor): number => a.at - b.at || a.id - b.id;
const later = (a: FeedCursor, b: FeedCursor): FeedCursor => (compare(a, b) >= 0 ? a : b);

export interface MessageFeedOptions {
  pollIntervalMs?: number;
  settleMs?: number;
  /** Rows per read; a full batch is followed by another read at once. */
  batchSize?: number;
  /**
   * Most rows one subscriber is caught up with from its cursor. A client further behind than this
   * (or one that sends `Last-Event-ID: 0-0`) gets that many, then a reset: it reloads the list
   * with GET /messages and follows live from there. Without the bound a reconnect could replay the
   * whole log, and a few such streams would keep the process reading for seconds.
   */
  maxReplayRows?: number;
  log?: Logger;
}

export interface FeedSubscription {
  /** Only this lead's messages. */
  leadId?: number | undefined;
  /** Resume after this cursor (an SSE Last-Event-ID); by default only changes from now on. */
  from?: FeedCursor | undefined;
  onRows: (rows: MessageLogRow[]) => void;
  /** Called when the catch-up stopped at maxReplayRows and the stream skipped ahead to now. */
  onReset?: (replayed: number) => void;
}

interface Subscriber {
  leadId: number | undefined;
  cursor: FeedCursor;
  onRows: (rows: MessageLogRow[]) => void;
  closed: boolean;
}

export class MessageChangeFeed {
  private readonly pollIntervalMs: number;
  private readonly settleMs: number;
  private readonly batchSize: number;
  private readonly maxReplayRows: number;
  private readonly log: Logger;
  private readonly subscribers = new Set<Subscriber>();
  private head: FeedCursor | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(
    private readonly db: Db,
    options: MessageFeedOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.settleMs = options.settleMs ?? 1_000;
    this.batchSize = options.batchSize ?? 500;
    this.maxReplayRows = options.maxReplayRows ?? 1_000;
    this.log = options.log ?? createLogger({ level: 'warn' });
  }

  /**
   * Catches the subscriber up from its cursor to the poller's position (its own reads, filtered
   * by lead), then attaches it to the shared poller. Resolves with the unsubscribe function.
   */
  async subscribe(subscription: FeedSubscription): Promise<() => void> {
    this.head ??= { at: Date.now() - this.settleMs, id: WHOLE_MS };
    const subscriber: Subscriber = {
      leadId: subscription.leadId,
      cursor: subscription.from ?? this.head,
      onRows: subscription.onRows,
      closed: false,
    };
    const unsubscribe = (): void => {
      subscriber.closed = true;
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stop();
    };

    let replayed = 0;
    while (!subscriber.closed && this.head && compare(subscriber.cursor, this.head) < 0) {
      const head = this.head;
      if (replayed >= this.maxReplayRows) {
        subscriber.cursor = head;
        subscription.onReset?.(replayed);
        break;
      }
      const limit = Math.min(this.batchSize, this.maxReplayRows - replayed);
      const rows = await listMessagesChangedSince(this.db, {
        since: new Date(subscriber.cursor.at),
        afterId: subscriber.cursor.id,
        until: new Date(head.at),
        leadId: subscriber.leadId,
        limit,
      });
      if (rows.length > 0 && !subscriber.closed) {
        subscriber.onRows(rows);
        subscriber.cursor = cursorOf(rows.at(-1)!);
        replayed += rows.length;
      }
      if (rows.length < limit) subscriber.cursor = later(subscriber.cursor, head);
    }
    if (subscriber.closed) return unsubscribe;
    // The poller may have stopped (every other stream closed) while this one caught up.
    this.head ??= subscriber.cursor;
    this.subscribers.add(subscriber);
    if (!this.timer && !this.ticking) this.schedule(this.pollIntervalMs);
    return unsubscribe;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    // The poller serves every stream: its lines belong to none of the requests that opened them.
    this.timer = runOutsideRequestScope(() =>
      setTimeout(() => {
        this.timer = null;
        void this.tick();
      }, delayMs),
    );
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.head = null;
  }

  private async tick(): Promise<void> {
    let full = false;
    this.ticking = true;
    try {
      const head = this.head;
      if (!head) return;
      const until = Math.max(Date.now() - this.settleMs, head.at);
      const rows = await listMessagesChangedSince(this.db, {
        since: new Date(head.at),
        afterId: head.id,
        until: new Date(until),
        limit: this.batchSize,
      });
      if (this.head !== head) return; // stopped (and maybe restarted) while reading
      full = rows.length === this.batchSize;
      const next = full ? cursorOf(rows.at(-1)!) : later({ at: until, id: WHOLE_MS }, head);
      this.head = next;
      for (const subscriber of this.subscribers) {
        const mine = rows.filter(
          (row) =>
            (subscriber.leadId === undefined || row.leadId === subscriber.leadId) &&
            compare(cursorOf(row), subscriber.cursor) > 0,
        );
        subscriber.cursor = later(subscriber.cursor, next);
        if (mine.length > 0) subscriber.onRows(mine);
      }
    } catch (error) {
      this.log.error({ err: error }, 'reading message changes for the live log failed');
    } finally {
      this.ticking = false;
      if (this.subscribers.size > 0) this.schedule(full ? 0 : this.pollIntervalMs);
    }
  }
}
