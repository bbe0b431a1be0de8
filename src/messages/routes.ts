import { listMessages } from '../db/queries';
import type { ApiContext } from '../api/context';
import { createMessageStreams } from './stream';
import { ListMessagesQuery, MessageStreamQuery } from './schemas';
import { ApiRouter } from '../api/route';
import { MessagePageResponse } from './schemas';

export { DEFAULT_MAX_STREAMS, type LiveLogLimits } from './stream';

export function messagesRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Messages', checkResponses: deps.checkResponses });
  const streams = createMessageStreams({ db: deps.db, log: deps.log, limits: deps.liveLog ?? {} });

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
      await streams.serve(req, res, { leadId: query.leadId, title: 'live message log' });
    },
  );

  return routes;
}
