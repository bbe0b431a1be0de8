/**
 * Webhook status events off the request path: store first, apply later, each exactly once.
 *
 * A request whose signature checked out hands its parsed status event to the `StatusEventBatcher`
 * and is answered when the event is *durably stored*: the batcher collects the events of
 * concurrent requests and writes them with one multi-row insert in one transaction (group commit;
 * a batch goes when it reaches `maxBatch` events, after `maxDelayMs`, or as soon as the previous
 * batch has committed). Rows are stored with Outcome 'pending' and the parsed event in
 * StatusEvent; the unique (Provider, DedupeKey) index absorbs redeliveries, so the provider is
 * told `duplicate` and nothing is queued twice.
 *
 * The `WebhookEventProcessor` applies pending rows in id order, in batches: one read of the named
 * messages, the monotone status rules folded in memory, one set-based update of the messages and
 * one of the ledger outcomes, all in one transaction (see applyMessageStatusBatch). It is woken by
 * each stored batch and scans the pending rows when it starts, so events stored by a process that
 * died before applying them are applied by the next one. Applying is a monotone join and the
 * outcome update only touches rows still pending, so two processors on one database, or a crash
 * between applying and recording, apply nothing twice in effect.
 *
 * Inbound messages (replies) are few and must stop drips at once; they stay on the request path
 * (src/webhooks/ingest.ts applyInboundMessage).
 */
import { withTransaction, type Db } from '../db/client';
import {
  applyMessageStatusBatch,
  insertPendingWebhookEvents,
  listPendingWebhookEvents,
  setWebhookEventOutcomes,
  type ApplyMessageStatusParams,
  type PendingWebhookEvent,
  type WebhookOutcome,
} from '../db/queries';
import { statusDedupeKey, type DeliveryStatus, type StatusEvent } from './ingest';
import { createLogger, runOutsideRequestScope, type Logger } from '../logging/logger';

/** `queued`: stored now, to be applied; `duplicate`: this event was already stored. */
export interface QueuedStatus {
  outcome: 'queued' | 'duplicate';
  id?: number;
}

export interface BatcherOptions {
  /** Events per insert at most. */
  maxBatch?: number;
  /** How long the first event of a batch waits for company before the batch goes. */
  maxDelayMs?: number;
  /** Called after each batch commits (wakes the processor). */
  onStored?: () => void;
}

interface Waiter {
  event: StatusEvent;
  resolve: (result: QueuedStatus) => void;
  reject: (err: unknown) => void;
}

/** What the ledger keeps of a status event for the processor (the payload is kept beside it). */
interface StoredStatusEvent {
  eventType: string;
  providerMessageId: string;
  callbackData: string | null;
  status: DeliveryStatus;
  at: string;
  errorCode: string | null;
  errorMessage: string | null;
}

export function storedStatusEvent(event: StatusEvent): string {
  const stored: StoredStatusEvent = {
    eventType: event.eventType,
    providerMessageId: event.providerMessageId,
    callbackData: event.callbackData ?? null,
    status: event.status,
    at: event.at.toISOString(),
    errorCode: event.errorCode ?? null,
    errorMessage: event.errorMessage ?? null,
  };
  return JSON.stringify(stored);
}

const STATUSES: readonly string[] = ['sent', 'delivered', 'read', 'failed'];

function parseStoredStatusEvent(text: string | null): ApplyMessageStatusParams | undefined {
  if (text === null) return undefined;
  try {
    const e = JSON.parse(text) as Partial<StoredStatusEvent>;
    const at = new Date(e.at ?? Number.NaN);
    if (typeof e.status !== 'string' || !STATUSES.includes(e.status) || Number.isNaN(at.getTime())) return undefined;
    return {
      providerMessageId: e.providerMessageId || undefined,
      callbackData: e.callbackData ?? undefined,
      status: e.status,
      at,
      errorCode: e.errorCode ?? undefined,
      errorMessage: e.errorMessage ?? undefined,
    };
  } catch {
    return undefined;
  }
}

export class StatusEventBatcher {
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private batch: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly options: BatcherOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.maxDelayMs = options.maxDelayMs ?? 2;
  }

  /** Resolves once the event is committed (or found already stored); rejects if the write failed. */
  submit(event: StatusEvent): Promise<QueuedStatus> {
    return new Promise((resolve, reject) => {
      this.batch.push({ event, resolve, reject });
      if (this.batch.length >= this.maxBatch) this.flushSoon(true);
      else this.flushSoon(false);
    });
  }

  /** Writes whatever is waiting, and waits for every batch in flight. */
  async flush(): Promise<void> {
    while (this.inFlight || this.batch.length > 0) {
      if (!this.inFlight) this.startFlush();
      await this.inFlight;
    }
  }

  private flushSoon(now: boolean): void {
    // One batch in flight at a time: requests arriving while it commits form the next batch,
    // which goes as soon as it has committed (group commit).
    if (this.inFlight) return;
    if (now) this.startFlush();
    else this.timer ??= setTimeout(() => this.startFlush(), this.maxDelayMs);
  }

  private startFlush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inFlight || this.batch.length === 0) return;
    const waiters = this.batch.splice(0, this.maxBatch);
    this.inFlight = this.write(waiters).finally(() => {
      this.inFlight = null;
      if (this.batch.length > 0) this.startFlush();
    });
  }

  private async write(waiters: Waiter[]): Promise<void> {
    // One row per key: a duplicate within the batch is answered like one across batches.
    const byKey = new Map<string, Waiter[]>();
    for (const waiter of waiters) {
      const key = `${waiter.event.provider}\u0000${statusDedupeKey(waiter.event)}`;
      const list = byKey.get(key);
      if (list) list.push(waiter);
      else byKey.set(key, [waiter]);
    }
    const groups = [...byKey.values()] as [Waiter, ...Waiter[]][];
    const rows: PendingWebhookEvent[] = groups.map(([{ event }]) => ({
      provider: event.provider,
      dedupeKey: statusDedupeKey(event),
      eventType: event.eventType,
      providerMessageId: event.providerMessageId,
      receivedAt: event.receivedAt,
      payload: event.payload,
      statusEvent: storedStatusEvent(event),
    }));
    let ids: (number | undefined)[];
    try {
      ids = await withTransaction(this.db, (tx) => insertPendingWebhookEvents(tx, rows));
    } catch (err) {
      for (const waiter of waiters) waiter.reject(err);
      return;
    }
    groups.forEach((group, index) => {
      const id = ids[index];
      group.forEach((waiter, n) =>
        waiter.resolve(id !== undefined && n === 0 ? { outcome: 'queued', id } : { outcome: 'duplicate' }),
      );
    });
    this.options.onStored?.();
  }
}

export interface ProcessorOptions {
  /** Pending rows applied per transaction. */
  batchSize?: number;
  /** Wait before trying again after a failed batch. */
  retryMs?: number;
  log?: Logger;
}

export class WebhookEventProcessor {
  private readonly batchSize: number;
  private readonly retryMs: number;
  private readonly log: Logger;
  private running = false;
  private again = false;
  private active: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    options: ProcessorOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.retryMs = options.retryMs ?? 1_000;
    this.log = options.log ?? createLogger({ level: 'warn' });
  }

  /** Starts applying, beginning with whatever is pending (also rows a crashed process left). */
  start(): void {
    this.running = true;
    this.wake();
  }

  /** New rows are pending: apply them (now, or right after the batch in progress). */
  wake(): void {
    if (!this.running) return;
    if (this.active) {
      this.again = true;
      return;
    }
    // A batch applies many requests' events: its lines belong to none of them.
    this.active = runOutsideRequestScope(() => this.loop()).finally(() => {
      this.active = null;
    });
  }

  /** Stops after the batch in progress; pending rows stay for the next start. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.active;
  }

  /** Resolves when nothing is pending and no batch is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.active) await this.active;
  }

  /** Applies one batch of pending rows; returns how many it took. */
  async applyPending(): Promise<number> {
    const rows = await listPendingWebhookEvents(this.db, this.batchSize);
    if (rows.length === 0) return 0;
    const parsed = rows.map((row) => ({ row, report: parseStoredStatusEvent(row.statusEvent) }));
    await withTransaction(this.db, async (tx) => {
      const valid = parsed.filter((p) => p.report !== undefined);
      const results = await applyMessageStatusBatch(
        tx,
        valid.map((p) => p.report!),
      );
      const outcomes: { id: number; outcome: WebhookOutcome; messageId: number | null }[] = valid.map((p, i) => {
        const result = results[i]!;
        return {
          id: p.row.id,
          outcome: !result.matched ? 'unknown_message' : result.changed ? 'applied' : 'unchanged',
          messageId: result.messageId ?? null,
        };
      });
      for (const p of parsed) {
        if (p.report) continue;
        this.log.warn(
          { webhookEventId: p.row.id, provider: p.row.provider },
          'stored webhook event has no readable status event; recorded as unknown_message',
        );
        outcomes.push({ id: p.row.id, outcome: 'unknown_message', messageId: null });
      }
      await setWebhookEventOutcomes(tx, outcomes);
    });
    return rows.length;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        let taken = this.batchSize;
        while (this.running && taken === this.batchSize) taken = await this.applyPending();
      } while (this.running && this.again);
    } catch (err) {
      this.log.error({ err, retryInMs: this.retryMs }, 'applying pending webhook events failed');
      if (this.running) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.wake();
        }, this.retryMs);
        this.retryTimer.unref();
      }
    }
  }
}

/** The batcher and the processor of one API process, wired together. */
export interface WebhookPipeline {
  batcher: StatusEventBatcher;
  processor: WebhookEventProcessor;
  /** Stores what is waiting, then stops the processor (pending rows stay for the next start). */
  close(): Promise<void>;
}

export function createWebhookPipeline(
  db: Db,
  options: {
    log?: Logger;
    batcher?: BatcherOptions;
    processor?: ProcessorOptions;
    start?: boolean;
  } = {},
): WebhookPipeline {
  const processor = new WebhookEventProcessor(db, { log: options.log, ...options.processor });
  const batcher = new StatusEventBatcher(db, { ...options.batcher, onStored: () => processor.wake() });
  if (options.start ?? true) processor.start();
  return {
    batcher,
    processor,
    close: async () => {
      await batcher.flush();
      await processor.stop();
    },
  };
}
