import { listMessages, type MessageLogRow } from '../db/queries';
import type { ApiContext } from '../api/context';
import { cursorOf, formatCursor, MessageChangeFeed, parseCursor } from './live-log';
import { ListMessagesQuery, MessageStreamQuery } from './schemas';
import { AppError } from '../errors';
import { ApiRouter } from '../api/route';
import { MessagePageResponse } from './schemas';

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

export function messagesRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Messages', checkResponses: deps.checkResponses });
  const log = deps.log;
  const limits = deps.liveLog ?? {};
  const maxStreams = limits.maxStreams ?? DEFAULT_MAX_STREAMS;
  const feed = new MessageChangeFeed(deps.db, {
    log,
    ...(limits.maxReplayRows !== undefined && { maxReplayRows: limits.maxReplayRows }),
  });
  let openStreams = 0;

  routes.get(
    '/',
    {
      summary: 'The message log',
      description:
        'Outgoing sends and incoming messages, newest first unless order=asc; from/to bound the creation time.',
      query: ListMessagesQuery,
      responses: { 200: MessagePageResponse },
    },
    async ({ query }, res) => {
      res.json(await listMessages(deps.db, query));
    },
  );

  /**
   * Live log: server-sent events, one `message` event per created or changed message row (the
   * whole row, as in GET /messages), optionally for one lead. Each event's id is a cursor; a client
   * that reconnects with `Last-Event-ID` gets what it missed, up to maxReplayRows rows; past that it
   * gets a `reset` event and should reload with GET /messages. Delivery is at least once: key rows
   * by `id` and keep the one with the latest `updatedAt`. At most maxStreams are open per process.
   */
  routes.get(
    '/stream',
    {
      summary: 'The live message log (server-sent events)',
      description:
        'One `message` event per created or changed row (the row, as in GET /messages), optionally for one lead. Resume with Last-Event-ID (up to 1,000 rows, then a `reset` event: reload with GET /messages). At most 100 streams per API process.',
      query: MessageStreamQuery,
      responses: {
        200: { description: 'An event stream', contentType: 'text/event-stream' },
        503: { description: 'Too many streams open: retry after Retry-After' },
      },
    },
    async ({ query }, res, req) => {
      if (openStreams >= maxStreams) {
        res.set('Retry-After', '10');
        throw new AppError(
          'unavailable',
          'too_many_streams',
          `this API process already serves ${maxStreams} live-log streams; retry later`,
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
      res.write(': live message log\n\n');

      let unsubscribe: (() => void) | undefined;
      let closed = false;
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
      res.on('close', () => {
        closed = true;
        openStreams--;
        clearInterval(heartbeat);
        unsubscribe?.();
      });

      const send = (rows: MessageLogRow[]): void => {
        if (closed) return;
        for (const row of rows)
          res.write(`id: ${formatCursor(cursorOf(row))}\nevent: message\ndata: ${JSON.stringify(row)}\n\n`);
        if (res.writableLength > MAX_BUFFERED_BYTES) res.end();
      };
      try {
        unsubscribe = await feed.subscribe({
          leadId: query.leadId,
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
  );

  return routes;
}
