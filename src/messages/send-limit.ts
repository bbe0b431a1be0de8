/**
 * The provider limit, held where sends leave. Two layers keep a sender within R sends a second:
 * - The Temporal server paces each send queue at a little under R (`serverSendRate` in
 *   src/worker/workers.ts), in priority order, so sends wait in the queue, not in workers.
 * - This ledger makes the limit exact: a send takes one of the sender's R × 60 slots of a minute
 *   in the database (src/db/queries/send-window.ts) just before its provider call, and when the
 *   call has ended it moves the slot's time on to then. The server's pacing cannot do that alone:
 *   its limiter lets a second's worth through at once after any pause, and the time between its
 *   dispatch and the provider call varies with every worker's load.
 *
 * Why that holds every minute: a send reaches the provider after it took its slot, and before its
 * call ended; the slot is taken again only a window after that end. So the sends 600 apart (at
 * R = 10/s) reach the provider more than a window apart, however long any of them took between the
 * ledger and the provider. (A slot time stays at its claim only if the worker dies during the
 * call.) The window is a minute plus `SEND_WINDOW_MARGIN_MS` for the clocks' resolution; with the
 * calls' own time it admits about 0.3 % less than R, inside the 1 % the server's pacing leaves, so
 * the ledger trims bursts and never becomes the queue.
 */
import { claimSendWindowSlot, ensureSendWindow, stampSendWindowSlot, type SendWindow } from '../db/queries';
import type { Db } from '../db/client';

export const SEND_WINDOW_MS = 60_000;
export const SEND_WINDOW_MARGIN_MS = 100;
/**
 * The longest a send waits in a worker for a slot before giving it back to the queue as a retry
 * (well inside the send activities' minute). Only a ledger kept full by something other than this
 * limit (workers configured with a higher one) makes a send wait that long.
 */
export const MAX_SEND_SLOT_WAIT_MS = 15_000;

export type SendSlot =
  /**
   * `atMs`: the database's time the slot was taken at; `waitedMs`: how long this send waited for it.
   * `callEnded` moves the slot's time on to now: call it once the provider call has ended, however it
   * ended. It never throws (a slot left at its claim time only frees sooner).
   */
  | { taken: true; atMs: number; waitedMs: number; callEnded(): Promise<void> }
  /** No slot came free in time: retry after `retryInMs`, when the oldest send leaves the window. */
  | { taken: false; retryInMs: number };

export interface SendLimit {
  /** R, the provider's limit for each sender. */
  readonly sendsPerSecond: number;
  /** Takes a slot of the sender's window, waiting up to `MAX_SEND_SLOT_WAIT_MS` for one. */
  take(senderKey: string): Promise<SendSlot>;
}

/** Whose limit a send counts against: each provider number has its own (Meta limits each number). */
export function senderKeyOf(provider: string, sender: string | undefined): string {
  return `${provider}:${sender ?? 'default'}`;
}

/** The ledger's shape for a limit of `sendsPerSecond`: R × 60 sends per minute (at least one). */
export function sendWindowOf(senderKey: string, sendsPerSecond: number): SendWindow {
  return {
    senderKey,
    slots: Math.max(1, Math.floor(sendsPerSecond * 60)),
    windowMs: SEND_WINDOW_MS + SEND_WINDOW_MARGIN_MS,
  };
}

export interface SendLimitOptions {
  sendsPerSecond: number;
  /** Replaces the window's shape (tests use short windows); defaults to `sendWindowOf`. */
  windowOf?: (senderKey: string) => SendWindow;
  maxWaitMs?: number;
}

/** A worker's send limit on `db`. It creates each sender's ledger rows the first time it sends for it. */
export function createSendLimit(db: Db, options: SendLimitOptions): SendLimit {
  const windowOf = options.windowOf ?? ((key: string) => sendWindowOf(key, options.sendsPerSecond));
  const maxWaitMs = options.maxWaitMs ?? MAX_SEND_SLOT_WAIT_MS;
  const ensured = new Map<string, Promise<void>>();
  const ensure = (window: SendWindow): Promise<void> => {
    const id = `${window.senderKey}/${window.slots}`;
    let done = ensured.get(id);
    if (!done) {
      done = ensureSendWindow(db, window);
      // A failed attempt is tried again by the next send.
      done.catch(() => ensured.delete(id));
      ensured.set(id, done);
    }
    return done;
  };
  return {
    sendsPerSecond: options.sendsPerSecond,
    async take(senderKey) {
      const window = windowOf(senderKey);
      await ensure(window);
      const started = Date.now();
      for (;;) {
        const claim = await claimSendWindowSlot(db, window);
        const waitedMs = Date.now() - started;
        if (claim.claimed) {
          const { atMs, slotId } = claim;
          return {
            taken: true,
            atMs,
            waitedMs,
            callEnded: () => stampSendWindowSlot(db, { slotId, claimedAtMs: atMs }).catch(() => undefined),
          };
        }
        if (waitedMs + claim.waitMs > maxWaitMs) return { taken: false, retryInMs: claim.waitMs };
        await new Promise((resolve) => setTimeout(resolve, claim.waitMs));
      }
    },
  };
}
