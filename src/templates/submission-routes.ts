/**
 * `/templates/submissions`: a template described as for the template JSON builder
 * (POST /cta/template-json) is built, stored in Message Master as Pending and submitted to Meta for
 * review by `template-submission-<templateId>`, which follows the review until Meta approves or
 * rejects it (its webhook cuts the wait short). Meta deployments only: Meta reviews templates.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { isUniqueViolation } from '../db/errors';
import { createTemplate, getTemplate, getTemplateByNameLanguage } from '../db/queries';
import type { TemplateButton } from '../db/queries/templates';
import { buildCtaTemplateJson, CtaTemplateRequest, TemplateJsonError } from '../cta/template-builder';
import type { ApiContext } from '../api/context';
import { type AppError, conflict, InvalidInputError, notFound } from '../errors';
import { IdParams } from '../api/schemas';
import { ApiRouter } from '../api/route';
import { startClaimedWorkflow } from '../workflow-client';
import { templateSubmissionWorkflowId, type TemplateSubmissionInput } from './contract';
import type { templateSubmissionWorkflow } from './workflow';

export type TemplateSubmissionRouterDeps = Pick<
  ApiContext,
  'db' | 'temporal' | 'taskQueue' | 'messagingProvider' | 'checkResponses'
>;

const SubmissionStartResponse = z
  .strictObject({
    templateId: z.number().int(),
    workflowId: z.string(),
    approvalStatus: z.string(),
    alreadySubmitted: z.boolean(),
  })
  .meta({ id: 'TemplateSubmissionStart' });

const SubmissionResponse = z
  .strictObject({
    templateId: z.number().int(),
    name: z.string(),
    language: z.string(),
    approvalStatus: z.string(),
    rejectionReason: z.string().nullable(),
    providerTemplateId: z.string().nullable(),
    workflowId: z.string(),
    tracking: z.string().meta({ description: '`running` while the review is followed, `completed`, or `none`' }),
  })
  .meta({ id: 'TemplateSubmission' });

/** Templates are admin-only, reads included: submissions create them and follow Meta's review. */
export function templateSubmissionRouter(deps: TemplateSubmissionRouterDeps): ApiRouter {
  const routes = new ApiRouter({ tag: 'Message Master', checkResponses: deps.checkResponses, writeRole: 'admin' });

  routes.post(
    '/',
    {
      summary: 'Submit a template to Meta for review',
      description:
        'Builds the template JSON (the rules of POST /cta/template-json), stores it in Message Master as Pending and starts template-submission-<templateId>, which submits it once and follows the review until Meta approves or rejects it. Meta deployments only.',
      body: CtaTemplateRequest,
      responses: {
        202: SubmissionStartResponse,
        409: {
          description:
            'The deployment does not send through Meta (submission_unsupported), or the name and language are taken (template_exists)',
        },
      },
      role: 'admin',
    },
    async ({ body }, res) => {
      if (deps.messagingProvider !== 'meta') {
        throw conflict(
          'submission_unsupported',
          `templates are submitted to Meta for review; this deployment sends through ${deps.messagingProvider}`,
        );
      }
      let definition: TemplateSubmissionInput['definition'];
      try {
        definition = buildCtaTemplateJson(body);
      } catch (error) {
        if (error instanceof TemplateJsonError)
          throw new InvalidInputError(error.issues.map((issue) => ({ location: 'body', ...issue })));
        throw error;
      }

      let template = await getTemplateByNameLanguage(deps.db, body.name, body.language);
      // A submission whose workflow never started (a failed start) may be made again; nothing else.
      const resubmittable =
        template && template.source === 'meta' && !template.providerTemplateId && template.approvalStatus === 'Pending';
      if (template && !resubmittable) throw taken(body.name, body.language);
      if (!template) {
        try {
          template = await createTemplate(deps.db, messageMasterValues(body));
        } catch (error) {
          if (isUniqueViolation(error)) throw taken(body.name, body.language);
          throw error;
        }
      }
      const workflowId = templateSubmissionWorkflowId(template.id);
      const outcome = await startClaimedWorkflow<typeof templateSubmissionWorkflow>(
        deps.temporal,
        'templateSubmissionWorkflow',
        { taskQueue: deps.taskQueue, workflowId, args: [{ templateId: template.id, definition }] },
        async () => undefined,
      );
      if (outcome.kind === 'failed') throw outcome.error;
      res.status(202).json({
        templateId: template.id,
        workflowId,
        approvalStatus: template.approvalStatus,
        alreadySubmitted: outcome.kind === 'already_started' || Boolean(resubmittable),
      });
    },
  );

  routes.get(
    '/:id',
    {
      summary: "A submitted template's review status",
      params: IdParams,
      responses: { 200: SubmissionResponse },
      role: 'admin',
    },
    async ({ params }, res) => {
      const template = await getTemplate(deps.db, params.id);
      if (!template || template.source !== 'meta') throw notFound('template submission');
      res.json({
        templateId: template.id,
        name: template.name,
        language: template.language,
        approvalStatus: template.approvalStatus,
        rejectionReason: template.rejectionReason,
        providerTemplateId: template.providerTemplateId,
        workflowId: templateSubmissionWorkflowId(template.id),
        tracking: await trackingState(deps.temporal, templateSubmissionWorkflowId(template.id)),
      });
    },
  );

  return routes;
}

const taken = (name: string, language: string): AppError =>
  conflict('template_exists', `a template ${name} (${language}) is already in Message Master`);

/** `running` while the review is followed, `completed` once it ended, `none` when it never started. */
async function trackingState(temporal: Client, workflowId: string): Promise<string> {
  try {
    const description = await temporal.workflow.getHandle(workflowId).describe();
    return description.status.name.toLowerCase();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'none';
    throw error;
  }
}

/** The Message Master row of a submitted template: what was submitted, Pending until Meta decides. */
function messageMasterValues(request: CtaTemplateRequest): Parameters<typeof createTemplate>[1] {
  const header = request.header;
  return {
    name: request.name,
    language: request.language,
    category: request.category,
    approvalStatus: 'Pending',
    headerType: header ? header.type : 'none',
    headerText: header?.type === 'text' ? header.text : null,
    // A media header's sample is what review saw; when it is a URL it is the default media too.
    headerMediaUrl: header && header.type !== 'text' && /^https:\/\//.test(header.example) ? header.example : null,
    body: request.body.text,
    footer: request.footer ?? null,
    buttons: request.buttons.map((button): TemplateButton =>
      button.type === 'URL'
        ? { type: 'URL', text: button.text, url: button.url, ...(button.example && { example: button.example }) }
        : button.type === 'PHONE_NUMBER'
          ? { type: 'PHONE_NUMBER', text: button.text, phoneNumber: button.phoneNumber }
          : { type: 'QUICK_REPLY', text: button.text },
    ),
    provider: 'meta',
    source: 'meta',
  };
}
