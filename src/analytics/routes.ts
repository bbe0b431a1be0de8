/**
 * Analytics, read from the message log at request time (src/db/queries/analytics.ts): a drip
 * sequence's funnel, the KPIs of a period, the outcomes of any reference's sends, and one lead's
 * conversation, paged and live. Reads only: an agent's key may call every route.
 */
import { ApiRouter } from '../api/route';
import type { ApiContext } from '../api/context';
import {
  getContactGrowth,
  getDripOutcomes,
  getLead,
  getResponseTimes,
  getRunningCounts,
  getSendFailures,
  getSendOutcomes,
  getSequence,
  listConversation,
  outcomeRate,
  type ConversationMessage,
  type MessageLogRow,
  type SendOutcomeCounts,
  type SendSet,
} from '../db/queries';
import { notFound } from '../errors';
import { createMessageStreams } from '../messages/stream';
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

const HOUR_SECONDS = 3_600;

/** Counts and their rates, each rate a share of the sends the provider accepted. */
function withRates(counts: Omit<SendOutcomeCounts, 'stepIndex'>) {
  const { total, sent, delivered, read, replied, failed, pending } = counts;
  return {
    total,
    sent,
    delivered,
    read,
    replied,
    failed,
    pending,
    deliveryRate: outcomeRate(delivered, sent),
    readRate: outcomeRate(read, sent),
    replyRate: outcomeRate(replied, sent),
  };
}

const NO_SENDS: Omit<SendOutcomeCounts, 'stepIndex'> = {
  total: 0,
  sent: 0,
  delivered: 0,
  read: 0,
  replied: 0,
  failed: 0,
  pending: 0,
};

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
      const sequence = await getSequence(db, params.sequenceId);
      if (!sequence) throw notFound(`sequence ${params.sequenceId}`);
      const set: SendSet = { kind: 'dripSequence', sequenceId: sequence.id };
      const [counts, failures, outcomes] = await Promise.all([
        getSendOutcomes(db, { set, replyWindowSeconds: query.replyWindowHours * HOUR_SECONDS, byStep: true }),
        getSendFailures(db, { set, byStep: true }),
        getDripOutcomes(db, { sequenceId: sequence.id }),
      ]);
      // Every step of the sequence as it is now, and any step an older version had beyond it.
      const stepCount = Math.max(sequence.steps.length, ...counts.map((c) => (c.stepIndex ?? -1) + 1));
      const steps = Array.from({ length: stepCount }, (_, stepIndex) => {
        const { stepIndex: _step, ...found } = counts.find((c) => c.stepIndex === stepIndex) ?? {
          stepIndex,
          ...NO_SENDS,
        };
        return {
          stepIndex,
          templateName: sequence.steps[stepIndex]?.templateName ?? null,
          reached: found.total,
          ...withRates(found),
          failures: failures
            .filter((f) => f.stepIndex === stepIndex)
            .map(({ errorCode, errorMessage, count }) => ({ errorCode, errorMessage, count })),
        };
      });
      const byStatus = (status: string) =>
        outcomes.filter((o) => o.status === status).reduce((sum, o) => sum + o.count, 0);
      res.json({
        sequenceId: sequence.id,
        sequenceName: sequence.name,
        replyWindowHours: query.replyWindowHours,
        steps,
        outcomes: {
          assignments: outcomes.reduce((sum, o) => sum + o.count, 0),
          pending: byStatus('pending'),
          active: byStatus('active'),
          paused: byStatus('paused'),
          completed: byStatus('completed'),
          cancelled: byStatus('cancelled'),
          failed: byStatus('failed'),
          cancelledByReason: outcomes
            .filter((o) => o.status === 'cancelled')
            .map((o) => ({ reason: o.stopReason, count: o.count })),
        },
      });
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
      const period = { from: query.from, to: query.to };
      const [contacts, messages, responseTime, running] = await Promise.all([
        getContactGrowth(db, period),
        getSendOutcomes(db, {
          set: { kind: 'period', ...period },
          replyWindowSeconds: query.replyWindowHours * HOUR_SECONDS,
        }),
        getResponseTimes(db, period),
        getRunningCounts(db),
      ]);
      res.json({
        from: period.from.toISOString(),
        to: period.to.toISOString(),
        replyWindowHours: query.replyWindowHours,
        contacts: {
          total: contacts.total,
          totalAtStart: contacts.totalAtStart,
          newInPeriod: contacts.total - contacts.totalAtStart,
          months: contacts.months.map((month) => ({
            month: month.from.toISOString().slice(0, 7),
            from: month.from.toISOString(),
            to: month.to.toISOString(),
            created: month.created,
            totalBefore: month.totalBefore,
            growthRate: outcomeRate(month.created, month.totalBefore),
          })),
        },
        messages: withRates(messages[0] ?? NO_SENDS),
        responseTime,
        // TODO(campaigns): count campaigns scheduled, running or paused once the campaigns table exists.
        running: { ...running, campaigns: null },
      });
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
      const set: SendSet = { kind: 'reference', referenceType: query.referenceType, referenceId: query.referenceId };
      const [[counts], failures] = await Promise.all([
        getSendOutcomes(db, { set, replyWindowSeconds: query.replyWindowHours * HOUR_SECONDS }),
        getSendFailures(db, { set }),
      ]);
      res.json({
        referenceType: query.referenceType,
        referenceId: query.referenceId,
        replyWindowHours: query.replyWindowHours,
        ...withRates(counts ?? NO_SENDS),
        failures: failures.map(({ errorCode, errorMessage, count }) => ({ errorCode, errorMessage, count })),
      });
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
