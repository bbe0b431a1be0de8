/**
 * Serving the live message log as server-sent events, with its bounds: at most `maxStreams` open
 * per API process (the next is refused with 503 and Retry-After), a catch-up of at most
 * `maxReplayRows` after a Last-Event-ID (then a `reset` event), a heartbeat, and a client that
 * falls 1 MB behind is cut off (it reconnects with Last-Event-ID). GET /messages/stream and the
 * per-lead conversation stream (GET /analytics/conversations/:leadId/stream) are both served by it,
 * each with its own set of streams and its own poller, which runs only while a stream is open.
 */
import type { Request, Response } from 'express';
import type { Db } from '../db/client';
import type { MessageLogRow } from '../db/queries';
import { AppError } from '../errors';
import type { Logger } from '../logging/logger';
import { cursorOf, formatCursor, MessageChangeFeed, parseCursor } from './live-log';

/** A comment line every 15 s keeps proxies and clients from timing out an idle stream. */
const HEARTBEAT_MS = 15_000;
/** A client this far behind is cut off; it reconnects with Last-Event-ID and catches up from the database. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface LiveLogLimits {
  /** Streams one API process keeps open at once; the next is refused with 503 until one closes. */
  maxStreams?: number;
  /** See MessageFeedOptions.maxReplayRows. */
  maxReplayRows?: number;
}

/** Each open stream holds a socket and a share of every poll; a console tab needs one. */
export const DEFAULT_MAX_STREAMS = 100;

export interface StreamOptions {
  /** Only this lead's messages. */
  leadId?: number | undefined;
  /** The first line of the stream, a comment naming it. */
  title: string;
  /** What one row becomes in its `message` event's data (by default the whole row). */
  toEvent?: (row: MessageLogRow) => unknown;
}

export interface MessageStreams {
  /** Serves one stream until the client goes; throws a 503 AppError when `maxStreams` are open. */
  serve(req: Request, res: Response, options: StreamOptions): Promise<void>;
}

export function createMessageStreams(deps: { db: Db; log: Logger; limits: LiveLogLimits }): MessageStreams {
  const { log, limits } = deps;
  const maxStreams = limits.maxStreams ?? DEFAULT_MAX_STREAMS;
  const feed = new MessageChangeFeed(deps.db, {
    log,
    ...(limits.maxReplayRows !== undefined && { maxReplayRows: limits.maxReplayRows }),
  });
  let openStreams = 0;

  return {
    async serve(req, res, options) {
      if (openStreams >= maxStreams) {
        res.set('Retry-After', '10');
        throw new AppError(
          'unavailable',
          'too_many_streams',
          `this API process already serves ${maxStreams} ${options.title} streams; retry later`,
        );
      }
      openStreams++;
      res.status(200).set({
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      res.flushHeaders();
      res.write(`: ${options.title}\n\n`);

      let unsubscribe: (() => void) | undefined;
      let closed = false;
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
      res.on('close', () => {
        closed = true;
        openStreams--;
        clearInterval(heartbeat);
        unsubscribe?.();
      });

      const toEvent = options.toEvent ?? ((row: MessageLogRow) => row);
      const send = (rows: MessageLogRow[]): void => {
        if (closed) return;
        for (const row of rows)
          res.write(`id: ${formatCursor(cursorOf(row))}\nevent: message\ndata: ${JSON.stringify(toEvent(row))}\n\n`);
        if (res.writableLength > MAX_BUFFERED_BYTES) res.end();
      };
      try {
        unsubscribe = await feed.subscribe({
          leadId: options.leadId,
          from: parseCursor(req.get('last-event-id')),
          onRows: send,
          onReset: (replayed) => {
            if (!closed) res.write(`event: reset\ndata: ${JSON.stringify({ reason: 'replay_limit', replayed })}\n\n`);
          },
        });
        if (closed) unsubscribe();
      } catch (error) {
        log.error({ err: error }, 'live-log stream failed to start');
        res.end();
      }
    },
  };
}
