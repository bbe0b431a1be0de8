/**
 * Analytics, read from the message log at request time (src/db/queries/analytics.ts): a drip
 * sequence's funnel, the KPIs of a period, the outcomes of any reference's sends, and one lead's
 * conversation, paged and live. Reads only: an agent's key may call every route.
 */
import { ApiRouter } from '../api/route';
import type { ApiContext } from '../api/context';
import { getLead, listConversation, type ConversationMessage, type MessageLogRow } from '../db/queries';
import { notFound } from '../errors';
import { createMessageStreams } from '../messages/stream';
import { dripFunnel, kpis, referenceOutcomes } from './reports';
import {
  ConversationQuery,
  ConversationResponse,
  DripFunnelResponse,
  KpiQuery,
  KpiResponse,
  LeadParams,
  OutcomesQuery,
  OutcomesResponse,
  ReplyWindowQuery,
  SequenceParams,
} from './schemas';

/** The tick a chat shows for an outgoing message; incoming messages have none. */
function tickOf(message: Pick<ConversationMessage, 'direction' | 'status'>) {
  if (message.direction === 'incoming') return null;
  return message.status === 'sending' ? 'pending' : message.status;
}

/** A message as a conversation shows it, in the page and on the stream alike. */
function conversationItem(message: ConversationMessage) {
  const { createdAt, ...rest } = message;
  return { ...rest, tick: tickOf(message), at: createdAt };
}

function conversationItemOfRow(row: MessageLogRow) {
  const { messageContent, ...rest } = row;
  return conversationItem({
    id: rest.id,
    direction: rest.direction,
    status: rest.status,
    templateName: rest.templateName,
    templateLanguage: rest.templateLanguage,
    mediaUrl: rest.mediaUrl,
    referenceType: rest.referenceType,
    referenceId: rest.referenceId,
    stepIndex: rest.stepIndex,
    sentAt: rest.sentAt,
    deliveredAt: rest.deliveredAt,
    readAt: rest.readAt,
    failedAt: rest.failedAt,
    errorCode: rest.errorCode,
    errorMessage: rest.errorMessage,
    createdAt: rest.createdAt,
    content: messageContent,
  });
}

export function analyticsRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Analytics', checkResponses: deps.checkResponses });
  const { db } = deps;
  const streams = createMessageStreams({ db, log: deps.log, limits: deps.liveLog ?? {} });

  routes.get(
    '/drips/:sequenceId/funnel',
    {
      summary: 'The funnel of a drip sequence',
      description:
        'Per step: reached (the step came due and its send was attempted), sent, delivered, read, replied (a message from the lead within replyWindowHours of the send), failed (by error code) and pending, with rates over sent; and the outcomes of its assignments: completed, cancelled by reason, failed, and those still running. Computed from the message log at request time, so a late webhook changes it.',
      params: SequenceParams,
      query: ReplyWindowQuery,
      responses: { 200: DripFunnelResponse, 404: { description: 'No such sequence' } },
    },
    async ({ params, query }, res) => {
      const funnel = await dripFunnel(db, { sequenceId: params.sequenceId, replyWindowHours: query.replyWindowHours });
      if (!funnel) throw notFound(`sequence ${params.sequenceId}`);
      res.json(funnel);
    },
  );

  routes.get(
    '/kpis',
    {
      summary: 'KPIs of a period',
      description:
        'Over [from, to) (default: the last 30 days; at most 400 days): contacts (total, new per UTC month, monthly growth rate), the outcomes of the sends created in the period with rates over sent, response time (an inbound message to the next outgoing message to that lead: median and p90), and what is running now.',
      query: KpiQuery,
      responses: { 200: KpiResponse },
    },
    async ({ query }, res) => {
      res.json(await kpis(db, query));
    },
  );

  routes.get(
    '/outcomes',
    {
      summary: 'Outcomes of the sends of one reference',
      description:
        'The sends recorded under one reference (a drip assignment, a CTA run, a welcome, a campaign): sent, delivered, read, replied within replyWindowHours, failed by error code, pending, with rates over sent.',
      query: OutcomesQuery,
      responses: { 200: OutcomesResponse },
    },
    async ({ query }, res) => {
      res.json(await referenceOutcomes(db, query));
    },
  );

  routes.get(
    '/conversations/:leadId',
    {
      summary: "A lead's conversation",
      description:
        'The lead’s messages in both directions in time order (order=asc, the default; desc for newest first), with status ticks, a page of at most `limit` at a time: pass `nextCursor` as `cursor` for the next page. Pages are keyset pages, so a message stored while paging is never skipped or repeated.',
      params: LeadParams,
      query: ConversationQuery,
      responses: { 200: ConversationResponse, 404: { description: 'No such lead' } },
    },
    async ({ params, query }, res) => {
      const lead = await getLead(db, params.leadId);
      if (!lead) throw notFound(`lead ${params.leadId}`);
      const messages = await listConversation(db, {
        leadId: lead.id,
        order: query.order,
        limit: query.limit,
        ...(query.cursor && { after: query.cursor }),
      });
      const last = messages.at(-1);
      res.json({
        leadId: lead.id,
        leadName: lead.name,
        order: query.order,
        items: messages.map(conversationItem),
        nextCursor: last && messages.length === query.limit ? `${last.createdAt.getTime()}-${last.id}` : null,
      });
    },
  );

  routes.get(
    '/conversations/:leadId/stream',
    {
      summary: "A lead's conversation, live (server-sent events)",
      description:
        'One `message` event (a message as in the conversation page) per message of the lead stored or changed, in both directions. Resume with Last-Event-ID (up to 1,000 messages, then a `reset` event: reload the page). At most 100 such streams per API process.',
      params: LeadParams,
      responses: {
        200: { description: 'An event stream', contentType: 'text/event-stream' },
        404: { description: 'No such lead' },
        503: { description: 'Too many streams open: retry after Retry-After' },
      },
    },
    async ({ params }, res, req) => {
      const lead = await getLead(db, params.leadId);
      if (!lead) throw notFound(`lead ${params.leadId}`);
      await streams.serve(req, res, { leadId: lead.id, title: 'conversation', toEvent: conversationItemOfRow });
    },
  );

  return routes;
}
