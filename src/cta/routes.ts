import { z } from 'zod';
import { normalizeIvrNumber } from './ivr';
import { startCtaFlow, type CtaStartDeps } from './start';
import { isUniqueViolation } from '../db/errors';
import {
  archiveCtaFlow,
  createCtaFlow,
  ctaRate,
  findCtaFlowByIvrNumber,
  getCtaFlow,
  getCtaFlowCounts,
  getCtaRun,
  listCtaFlows,
  listCtaRuns,
  listRecentCtaInteractions,
  OPEN_CTA_RUN_STATUSES,
} from '../db/queries';
import { ctaStateQuery, type CtaState } from './contract';
import type { VariableSource } from '../shared';
import { defaultCountryOf, readInteraktOptions } from '../settings/provider-settings';
import { checkSequenceSteps } from '../templates/check';
import type { ApiContext } from '../api/context';
import { queryOrNull } from '../workflow-client';
import { conflict, InvalidInputError, notFound } from '../errors';
import { CreateCtaFlowBody, CtaAnalyticsQuery, ListCtaRunsQuery, StartCtaFlowBody } from './schemas';
import { IdParams } from '../api/schemas';
import { ApiRouter } from '../api/route';
import {
  CtaAnalyticsResponse,
  CtaFlowResponse,
  CtaRunDetailResponse,
  CtaRunPageResponse,
  CtaStartResponse,
} from './schemas';
import { storedSender } from '../messages/senders';

const DEFAULT_ANALYTICS_DAYS = 30;

/** CTA flows: define them, put leads in them, follow their runs, and read how they convert. */
export function ctaRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'CTA follow-ups', checkResponses: deps.checkResponses });
  const startDeps: CtaStartDeps = {
    db: deps.db,
    temporal: deps.temporal,
    taskQueue: deps.taskQueue,
    sendTaskQueue: deps.sendTaskQueue,
  };

  routes.post(
    '/flows',
    {
      summary: 'Create a CTA flow',
      description:
        'The interactive template (body variables and a dynamic URL button per answer) and the brochure template are checked against Message Master; the IVR number (any format, stored as E.164) starts this flow when called.',
      body: CreateCtaFlowBody,
      responses: { 201: CtaFlowResponse, 409: { description: 'The name or the IVR number is taken' } },
    },
    async ({ body }, res) => {
      const bodyVariables: VariableSource[] = body.bodyVariables ?? [{ field: 'name' }, { value: body.projectName }];
      // Stored as IVR intake stores called numbers (landlines and toll-free included), so they match.
      const country = defaultCountryOf(await readInteraktOptions(deps.db), deps.defaultCountry);
      const ivrNumber = body.ivrNumber === undefined ? null : normalizeIvrNumber(body.ivrNumber, country);
      const taken = ivrNumber === null ? undefined : await findCtaFlowByIvrNumber(deps.db, ivrNumber);
      if (taken)
        throw conflict(
          'ivr_number_taken',
          `calls to ${ivrNumber} already start the flow "${taken.name}" (id ${taken.id})`,
        );
      await assertTemplatesUsable(deps, body, bodyVariables);
      try {
        const flow = await createCtaFlow(deps.db, {
          ...body,
          sender: storedSender(deps.senders, body.sender),
          bodyVariables,
          brochureUrl: body.brochureUrl ?? null,
          brochureFileName: body.brochureFileName ?? null,
          ivrNumber,
        });
        res.status(201).json(flow);
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('flow_exists', `a CTA flow named "${body.name}" already exists`);
        throw error;
      }
    },
  );

  routes.get(
    '/flows',
    { summary: 'List CTA flows', responses: { 200: z.strictObject({ items: z.array(CtaFlowResponse) }) } },
    async (_input, res) => {
      res.json({ items: await listCtaFlows(deps.db) });
    },
  );

  routes.get(
    '/flows/:id',
    { summary: 'Read a CTA flow', params: IdParams, responses: { 200: CtaFlowResponse } },
    async ({ params }, res) => {
      const flow = await getCtaFlow(deps.db, params.id);
      if (!flow) throw notFound('CTA flow');
      res.json(flow);
    },
  );

  // Archiving stops new runs; runs already going finish.
  routes.post(
    '/flows/:id/archive',
    { summary: 'Archive a CTA flow (no new runs)', params: IdParams, responses: { 200: CtaFlowResponse } },
    async ({ params }, res) => {
      if (!(await getCtaFlow(deps.db, params.id))) throw notFound('CTA flow');
      await archiveCtaFlow(deps.db, params.id);
      res.json(await getCtaFlow(deps.db, params.id));
    },
  );

  // Sends the interactive message to each lead (one run per lead and flow).
  routes.post(
    '/flows/:id/start',
    {
      summary: 'Put leads into a flow',
      description:
        'Sends the interactive message, one run per lead and flow; skipped leads say why (already_in_flow, opted_out, suppressed, start_failed, ...).',
      params: IdParams,
      body: StartCtaFlowBody,
      responses: {
        201: CtaStartResponse,
        200: { description: 'Nothing started: every lead was skipped', schema: CtaStartResponse },
        409: { description: 'The flow is archived' },
      },
    },
    async ({ params, body }, res) => {
      const flow = await getCtaFlow(deps.db, params.id);
      if (!flow) throw notFound('CTA flow');
      if (flow.archivedAt) throw conflict('flow_archived', 'an archived flow cannot be started');
      const started: { leadId: number; runId: number; workflowId: string }[] = [];
      const skipped: { leadId: number; reason: string; runId?: number }[] = [];
      for (const leadId of new Set(body.leadIds)) {
        try {
          const result = await startCtaFlow(startDeps, { flowId: flow.id, leadId, trigger: 'api' });
          if (result.kind === 'started')
            started.push({ leadId, runId: result.run.id, workflowId: result.run.workflowId });
          else skipped.push({ leadId, reason: result.reason, ...(result.run && { runId: result.run.id }) });
        } catch (error) {
          // Temporal unreachable: the run stays claimed with the reason, and starting again retries it.
          deps.log.warn({ err: error, flowId: flow.id, leadId }, 'CTA flow not started');
          skipped.push({ leadId, reason: 'start_failed' });
        }
      }
      res.status(started.length > 0 ? 201 : 200).json({ started, skipped });
    },
  );

  routes.get(
    '/runs',
    { summary: 'CTA runs with their decisions', query: ListCtaRunsQuery, responses: { 200: CtaRunPageResponse } },
    async ({ query }, res) => {
      res.json(await listCtaRuns(deps.db, query));
    },
  );

  // One run, with the workflow's own view while it is still waiting.
  routes.get(
    '/runs/:id',
    {
      summary: 'One CTA run',
      description: "With the workflow's own state while it waits for the click.",
      params: IdParams,
      responses: { 200: CtaRunDetailResponse },
    },
    async ({ params }, res) => {
      const run = await getCtaRun(deps.db, params.id);
      if (!run) throw notFound('CTA run');
      let live: CtaState | null = null;
      if (OPEN_CTA_RUN_STATUSES.includes(run.status)) {
        live = await queryOrNull(deps.temporal, run.workflowId, ctaStateQuery);
      }
      res.json({ ...run, live });
    },
  );

  // Per flow, for runs sent in the period: sent, answers, no response, engagement and conversion.
  routes.get(
    '/analytics',
    {
      summary: 'CTA analytics per flow',
      description:
        'For runs sent in the period (default: the last 30 days): sent, interested, not interested, no response, engagement and conversion rates, and recent interactions.',
      query: CtaAnalyticsQuery,
      responses: { 200: CtaAnalyticsResponse },
    },
    async ({ query }, res) => {
      const to = query.to ? new Date(query.to) : new Date();
      const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_ANALYTICS_DAYS * 86_400_000);
      const period = { from, to, ...(query.flowId !== undefined && { flowId: query.flowId }) };
      const flows = await getCtaFlowCounts(deps.db, period);
      const sum = (pick: (row: (typeof flows)[number]) => number) => flows.reduce((total, row) => total + pick(row), 0);
      const sent = sum((row) => row.sent);
      const interested = sum((row) => row.interested);
      const notInterested = sum((row) => row.notInterested);
      const rate = (n: number) => ctaRate(n, sent);
      res.json({
        from: from.toISOString(),
        to: to.toISOString(),
        totals: {
          sent,
          interested,
          notInterested,
          noResponse: sum((row) => row.noResponse),
          engagementRate: rate(interested + notInterested),
          conversionRate: rate(interested),
        },
        flows,
        recentInteractions:
          query.recent === 0 ? [] : await listRecentCtaInteractions(deps.db, { ...period, limit: query.recent }),
      });
    },
  );

  return routes;
}

/**
 * Both templates must be in Message Master and take what the flow will send: the body variables
 * and a link on each answer button (URL buttons with `{{1}}` at the end), and for the brochure the
 * body variables plus the document header. Else 400, nothing written.
 */
async function assertTemplatesUsable(
  deps: ApiContext,
  body: CreateCtaFlowBody,
  bodyVariables: VariableSource[],
): Promise<void> {
  const link = [{ value: 'link' }];
  const issues = await checkSequenceSteps(deps.db, [
    {
      templateName: body.templateName,
      templateLanguage: body.templateLanguage,
      variables: {
        body: bodyVariables,
        buttons: { [body.interestedButtonIndex]: link, [body.notInterestedButtonIndex]: link },
      },
    },
    {
      templateName: body.brochureTemplateName,
      templateLanguage: body.brochureTemplateLanguage,
      variables: { body: bodyVariables, ...(body.brochureUrl && { header: [{ value: body.brochureUrl }] }) },
    },
  ]);
  if (issues.length === 0) return;
  const where = (path: string) => path.replace(/^steps\.0\./, '').replace(/^steps\.1\./, 'brochure.');
  throw new InvalidInputError(
    issues.map((issue) => ({ location: 'body', path: where(issue.path), message: issue.message })),
  );
}
