import { WorkflowNotFoundError } from '@temporalio/client';
import type { ApiContext } from '../api/context';
import { ApiRouter } from '../api/route';
import { IdParams } from '../api/schemas';
import {
  campaignReportCounts,
  countCampaignRecipients,
  createCampaign,
  getCampaign,
  getSegment,
  listCampaignRecipients,
  listCampaigns,
  listRecipientLeadIds,
  type Campaign,
} from '../db/queries';
import { conflict, InvalidInputError, notFound } from '../errors';
import type { TemplateVariables } from '../shared';
import { checkSequenceSteps } from '../templates/check';
import { queryOrNull } from '../workflow-client';
import {
  campaignProgressQuery,
  campaignWorkflowId,
  cancelCampaignSignal,
  LIVE_CAMPAIGN_STATUSES,
  pauseCampaignSignal,
  resumeCampaignSignal,
} from './contract';
import {
  CampaignPageResponse,
  CampaignReportResponse,
  CampaignResponse,
  CampaignWithProgressResponse,
  CancelCampaignBody,
  CloneCampaignBody,
  CreateCampaignBody,
  ExportQuery,
  ListCampaignsQuery,
  RecipientPageResponse,
  RecipientsQuery,
  ReportQuery,
  RetargetCampaignBody,
  RetargetResponse,
  RetryResponse,
  StartCampaignBody,
} from './schemas';
import { retryCampaign, startCampaign } from './start';
import { z } from 'zod';

const HOUR_MS = 3600 * 1000;
/** Rows per page while the CSV export streams a campaign's recipients. */
const EXPORT_PAGE = 500;

/** Campaigns: one template to a segment or a list, with progress, controls, report and export. */
export function campaignsRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Campaigns', checkResponses: deps.checkResponses });

  async function campaignOr404(id: number): Promise<Campaign> {
    const campaign = await getCampaign(deps.db, id);
    if (!campaign) throw notFound('campaign');
    return campaign;
  }

  /** The template must exist in Message Master and take these variables: else 400, nothing written. */
  async function assertTemplateUsable(use: {
    templateName: string;
    templateLanguage: string;
    variables: TemplateVariables;
  }) {
    const issues = await checkSequenceSteps(deps.db, [use]);
    if (issues.length > 0) {
      throw new InvalidInputError(
        issues.map((issue) => ({
          location: 'body',
          path: issue.path.replace(/^steps\.0\./, ''),
          message: issue.message,
        })),
      );
    }
  }

  async function withProgress(campaign: Campaign) {
    const counts = await countCampaignRecipients(deps.db, campaign.id);
    const live =
      campaign.status === 'running' || campaign.status === 'paused'
        ? await queryOrNull(deps.temporal, campaignWorkflowId(campaign.id), campaignProgressQuery)
        : null;
    const rate = live?.ratePerMinute ?? null;
    const expectedFinishAt =
      campaign.status === 'running' && rate && rate > 0 && counts.pending > 0
        ? new Date(Date.now() + (counts.pending / rate) * 60_000).toISOString()
        : null;
    return {
      ...campaign,
      progress: {
        total: counts.total,
        pending: counts.pending,
        sent: counts.sent,
        failed: counts.failed,
        skipped: counts.skipped,
        ratePerMinute: rate,
        expectedFinishAt,
      },
    };
  }

  routes.post(
    '/',
    {
      summary: 'Create a campaign',
      description:
        'One template (variables mapped as in drip steps) to a segment (`{"segmentId": n}`, its members when the campaign starts) or a list (`{"leadIds": [...]}`, up to 100,000). Saved as a draft, or started at once (or at `scheduledAt`) with `"start": true`.',
      body: CreateCampaignBody,
      responses: { 201: CampaignWithProgressResponse },
    },
    async ({ body }, res) => {
      await assertTemplateUsable(body);
      if ('segmentId' in body.audience && !(await getSegment(deps.db, body.audience.segmentId))) {
        throw new InvalidInputError([{ location: 'body', path: 'audience.segmentId', message: 'no such segment' }]);
      }
      const campaign = await createCampaign(deps.db, {
        name: body.name,
        templateName: body.templateName,
        templateLanguage: body.templateLanguage,
        variables: body.variables,
        ...('segmentId' in body.audience
          ? { segmentId: body.audience.segmentId }
          : { leadIds: [...new Set(body.audience.leadIds)] }),
        scheduledAt: body.scheduledAt ?? null,
      });
      const result = body.start ? await startCampaign(deps, campaign.id) : campaign;
      res.status(201).json(await withProgress(result));
    },
  );

  routes.get(
    '/',
    { summary: 'List campaigns', query: ListCampaignsQuery, responses: { 200: CampaignPageResponse } },
    async ({ query }, res) => {
      res.json(await listCampaigns(deps.db, query));
    },
  );

  routes.get(
    '/:id',
    {
      summary: 'A campaign and its progress',
      description:
        'Progress: recipients sent, failed, skipped and pending of the total; while it runs, the rate over the last minute and the expected finish at that rate.',
      params: IdParams,
      responses: { 200: CampaignWithProgressResponse },
    },
    async ({ params }, res) => {
      res.json(await withProgress(await campaignOr404(params.id)));
    },
  );

  routes.post(
    '/:id/start',
    {
      summary: 'Start a draft campaign (now, or at scheduledAt)',
      params: IdParams,
      body: StartCampaignBody,
      responses: { 202: CampaignWithProgressResponse, 409: { description: 'Not a draft' } },
    },
    async ({ params, body }, res) => {
      await campaignOr404(params.id);
      res.status(202).json(await withProgress(await startCampaign(deps, params.id, body.scheduledAt)));
    },
  );

  const control = (
    path: string,
    summary: string,
    act: (
      handle: ReturnType<ApiContext['temporal']['workflow']['getHandle']>,
      body: { reason?: string | undefined },
    ) => Promise<void>,
  ) =>
    routes.post(
      path,
      {
        summary,
        params: IdParams,
        body: CancelCampaignBody,
        responses: { 202: CampaignResponse, 409: { description: 'The campaign is not running, paused or scheduled' } },
      },
      async ({ params, body }, res) => {
        const campaign = await campaignOr404(params.id);
        if (!LIVE_CAMPAIGN_STATUSES.includes(campaign.status)) {
          throw conflict('campaign_not_live', `the campaign is ${campaign.status}`);
        }
        try {
          await act(deps.temporal.workflow.getHandle(campaignWorkflowId(campaign.id)), body);
        } catch (error) {
          // The row says live but its workflow has ended (it is about to record that): nothing to control.
          if (error instanceof WorkflowNotFoundError) throw conflict('campaign_not_live', 'the campaign has ended');
          throw error;
        }
        res.status(202).json(campaign);
      },
    );
  control('/:id/pause', 'Pause: sends still queued are taken back, none new go out', (handle) =>
    handle.signal(pauseCampaignSignal),
  );
  control('/:id/resume', 'Resume a paused campaign where it stopped', (handle) => handle.signal(resumeCampaignSignal));
  control('/:id/cancel', 'Cancel: sends still queued are taken back, the campaign ends', (handle, body) =>
    handle.signal(cancelCampaignSignal, { reason: body.reason ?? 'admin' }),
  );

  routes.post(
    '/:id/clone',
    {
      summary: 'Clone a campaign as a new draft',
      description: 'Same template, variables and audience (a segment is re-read when the clone starts).',
      params: IdParams,
      body: CloneCampaignBody,
      responses: { 201: CampaignResponse },
    },
    async ({ params, body }, res) => {
      const source = await campaignOr404(params.id);
      const clone = await createCampaign(deps.db, {
        name: body.name ?? `${source.name} (copy)`.slice(0, 200),
        templateName: source.templateName,
        templateLanguage: source.templateLanguage,
        variables: source.variables,
        segmentId: source.segmentId,
        leadIds: source.leadIds,
        clonedFromId: source.id,
      });
      res.status(201).json(clone);
    },
  );

  routes.post(
    '/:id/retarget',
    {
      summary: "A new draft campaign to a finished campaign's recipients with one outcome",
      description:
        '`not_delivered` (sent, never delivered), `delivered_not_read`, `read_not_replied` (no inbound message within `replyWindowHours`, default 72), `failed`. The template may change.',
      params: IdParams,
      body: RetargetCampaignBody,
      responses: {
        201: RetargetResponse,
        409: { description: 'The campaign has not finished, or no recipient has this outcome' },
      },
    },
    async ({ params, body }, res) => {
      const source = await campaignOr404(params.id);
      if (source.status !== 'completed' && source.status !== 'cancelled') {
        throw conflict(
          'campaign_not_finished',
          `only a finished campaign can be retargeted; this one is ${source.status}`,
        );
      }
      const template = {
        templateName: body.templateName ?? source.templateName,
        templateLanguage: body.templateLanguage ?? source.templateLanguage,
        variables: (body.variables ?? source.variables) as TemplateVariables,
      };
      if (body.templateName || body.templateLanguage || body.variables) await assertTemplateUsable(template);
      const leadIds = await listRecipientLeadIds(deps.db, {
        campaignId: source.id,
        outcome: body.outcome,
        replyWindowMs: (body.replyWindowHours ?? 72) * HOUR_MS,
      });
      if (leadIds.length === 0)
        throw conflict('no_recipients', `no recipient of this campaign has outcome ${body.outcome}`);
      const campaign = await createCampaign(deps.db, {
        name: body.name ?? `${source.name} (${body.outcome})`.slice(0, 200),
        ...template,
        leadIds,
        retargetOfId: source.id,
        retargetOutcome: body.outcome,
      });
      res.status(201).json({ ...campaign, recipients: leadIds.length });
    },
  );

  routes.post(
    '/:id/retry',
    {
      summary: 'Send again to the recipients that failed for a reason that may pass',
      description:
        'A finished campaign runs again over its failed recipients whose failure was not a permanent refusal (the provider was unreachable, rate-limited or refused the key), under the same keys, so none is sent twice.',
      params: IdParams,
      responses: {
        202: RetryResponse,
        409: { description: 'Not finished, or no failure a retry could change' },
      },
    },
    async ({ params }, res) => {
      const campaign = await campaignOr404(params.id);
      const { requeued } = await retryCampaign(deps, campaign);
      res.status(202).json({ campaign: (await getCampaign(deps.db, campaign.id))!, requeued });
    },
  );

  routes.get(
    '/:id/report',
    {
      summary: 'Campaign report',
      description:
        'From the message log, so a late webhook changes it: recipients, sent, delivered, read, replied (an inbound message within `replyWindowHours` of the send), failed by error code and reason, skipped by reason, and the delivery, read and reply rates (each over sent).',
      params: IdParams,
      query: ReportQuery,
      responses: { 200: CampaignReportResponse },
    },
    async ({ params, query }, res) => {
      const campaign = await campaignOr404(params.id);
      const counts = await campaignReportCounts(deps.db, campaign.id, query.replyWindowHours * HOUR_MS);
      const rate = (part: number) => (counts.sent > 0 ? Math.round((part / counts.sent) * 10_000) / 10_000 : null);
      res.json({
        campaignId: campaign.id,
        replyWindowHours: query.replyWindowHours,
        totalRecipients: counts.total,
        pending: counts.pending,
        sent: counts.sent,
        delivered: counts.delivered,
        read: counts.read,
        replied: counts.replied,
        failed: counts.failed,
        skipped: counts.skipped,
        failedBy: counts.failedBy,
        skippedBy: counts.skippedBy,
        deliveryRate: rate(counts.delivered),
        readRate: rate(counts.read),
        replyRate: rate(counts.replied),
      });
    },
  );

  routes.get(
    '/:id/recipients',
    {
      summary: "A campaign's recipients, filtered by outcome",
      params: IdParams,
      query: RecipientsQuery,
      responses: { 200: RecipientPageResponse },
    },
    async ({ params, query }, res) => {
      const campaign = await campaignOr404(params.id);
      res.json(
        await listCampaignRecipients(deps.db, {
          campaignId: campaign.id,
          page: query.page,
          pageSize: query.pageSize,
          outcome: query.outcome,
          replyWindowMs: query.replyWindowHours * HOUR_MS,
        }),
      );
    },
  );

  routes.get(
    '/:id/recipients.csv',
    {
      summary: "Export a campaign's recipients (CSV)",
      description:
        'One row per recipient (optionally those with one outcome): lead id, status, reason, message status and times, replied.',
      params: IdParams,
      query: ExportQuery,
      responses: { 200: { description: 'The recipients as CSV', contentType: 'text/csv', schema: z.string() } },
    },
    async ({ params, query }, res) => {
      const campaign = await campaignOr404(params.id);
      res.status(200);
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="campaign-${campaign.id}-recipients.csv"`);
      res.write(`${CSV_COLUMNS.join(',')}\n`);
      for (let page = 1; ; page++) {
        const rows = await listCampaignRecipients(deps.db, {
          campaignId: campaign.id,
          page,
          pageSize: EXPORT_PAGE,
          outcome: query.outcome,
          replyWindowMs: query.replyWindowHours * HOUR_MS,
        });
        for (const row of rows.items) {
          res.write(`${CSV_COLUMNS.map((column) => csvCell(row[column])).join(',')}\n`);
        }
        if (page * EXPORT_PAGE >= rows.total) break;
      }
      res.end();
    },
  );

  return routes;
}

const CSV_COLUMNS = [
  'leadId',
  'status',
  'reason',
  'errorCode',
  'failureKind',
  'messageStatus',
  'sentAt',
  'deliveredAt',
  'readAt',
  'messageErrorCode',
  'replied',
] as const;

/** A CSV cell; text that a spreadsheet would run as a formula is prefixed with a quote. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
