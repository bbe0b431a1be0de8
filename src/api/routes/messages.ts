import { Router } from 'express';
import { listMessages, type MessageLogRow } from '../../db/queries';
import type { ApiDeps } from '../app';
import { cursorOf, formatCursor, MessageChangeFeed, parseCursor } from '../live-log';
import { ListMessagesQuery, MessageStreamQuery } from '../schemas/messages';
import { handle } from '../validate';

/** A comment line every 15 s keeps proxies and clients from timing out an idle stream. */
const HEARTBEAT_MS = 15_000;
/** A client this far behind is cut off; it reconnects with Last-Event-ID and catches up from the database. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export function messagesRouter(deps: ApiDeps): Router {
  const router = Router();
  const log = deps.log ?? ((line: string) => console.error(line));
  const feed = new MessageChangeFeed(deps.db, { log });

  router.get(
    '/',
    handle({ query: ListMessagesQuery }, async ({ query }, res) => {
      res.json(await listMessages(deps.db, query));
    }),
  );

  /**
   * Live log: server-sent events, one `message` event per created or changed message row (the
   * whole row, as in GET /messages), optionally for one lead. Each event's id is a cursor; a client
   * that reconnects with `Last-Event-ID` gets what it missed. Delivery is at least once: key rows
   * by `id` and keep the one with the latest `updatedAt`.
   */
  router.get(
    '/stream',
    handle({ query: MessageStreamQuery }, async ({ query }, res, req) => {
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
        clearInterval(heartbeat);
        unsubscribe?.();
      });

      const send = (rows: MessageLogRow[]): void => {
        if (closed) return;
        for (const row of rows) res.write(`id: ${formatCursor(cursorOf(row))}\nevent: message\ndata: ${JSON.stringify(row)}\n\n`);
        if (res.writableLength > MAX_BUFFERED_BYTES) res.end();
      };
      try {
        unsubscribe = await feed.subscribe({ leadId: query.leadId, from: parseCursor(req.get('last-event-id')), onRows: send });
        if (closed) unsubscribe();
      } catch (error) {
        log(`[live-log] stream failed to start: ${error instanceof Error ? error.message : String(error)}`);
        res.end();
      }
    }),
  );

  return router;
}
