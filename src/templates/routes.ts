import type { z } from 'zod';
import { isUniqueViolation } from '../db/errors';
import {
  archiveTemplate,
  createTemplate,
  getTemplate,
  getTemplateByNameLanguage,
  listTemplates,
  updateTemplate,
  type Template,
  type TemplatePatch,
} from '../db/queries';
import { MEDIA_HEADER_TYPES, checkTemplateDefinition } from './rules';
import type { ApiContext } from '../api/context';
import { type AppError, conflict, InvalidInputError, notFound } from '../errors';
import { IdParams } from '../api/schemas';
import { CreateTemplateBody, ListTemplatesQuery, UpdateTemplateBody } from './schemas';
import { ApiRouter } from '../api/route';
import { TemplatePageResponse, TemplateResponse } from './schemas';

/** Editing any of these changes what WhatsApp reviewed, so the template needs approval again. */
const REVIEWED_FIELDS = ['category', 'headerType', 'headerText', 'body', 'footer', 'buttons'] as const;

export function templatesRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Message Master', checkResponses: deps.checkResponses, writeRole: 'admin' });

  routes.post(
    '/',
    {
      summary: 'Create a template',
      description:
        "Checked against WhatsApp's rules (variables numbered without gaps, header kinds, button limits); created as Pending.",
      body: CreateTemplateBody,
      responses: { 201: TemplateResponse, 409: { description: 'A template with this name and language exists' } },
    },
    async ({ body }, res) => {
      if (await getTemplateByNameLanguage(deps.db, body.name, body.language)) throw duplicate(body.name, body.language);
      try {
        res.status(201).json(await createTemplate(deps.db, body));
      } catch (error) {
        // Created by someone else between the check and the insert (the unique index decides).
        if (isUniqueViolation(error)) throw duplicate(body.name, body.language);
        throw error;
      }
    },
  );

  routes.get(
    '/',
    {
      summary: 'List templates',
      description: 'Archived and removed-upstream templates only when asked for.',
      query: ListTemplatesQuery,
      responses: { 200: TemplatePageResponse },
    },
    async ({ query }, res) => {
      res.json(await listTemplates(deps.db, query));
    },
  );

  routes.get(
    '/:id',
    { summary: 'Read a template', params: IdParams, responses: { 200: TemplateResponse } },
    async ({ params }, res) => {
      const template = await getTemplate(deps.db, params.id);
      if (!template) throw notFound('template');
      res.json(template);
    },
  );

  routes.patch(
    '/:id',
    {
      summary: 'Edit a template',
      description: 'Editing what WhatsApp reviewed makes the template Pending again.',
      params: IdParams,
      body: UpdateTemplateBody,
      responses: { 200: TemplateResponse, 409: { description: 'Archived, or the new name and language are taken' } },
    },
    async ({ params, body }, res) => {
      const existing = await getTemplate(deps.db, params.id);
      if (!existing) throw notFound('template');
      if (existing.archivedAt) throw conflict('template_archived', 'an archived template cannot be edited');

      const patch = editPatch(existing, body);
      const issues = checkTemplateDefinition({ ...existing, ...patch });
      if (issues.length > 0) throw new InvalidInputError(issues.map((issue) => ({ location: 'body', ...issue })));

      const name = patch.name ?? existing.name;
      const language = patch.language ?? existing.language;
      if (name !== existing.name || language !== existing.language) {
        if (await getTemplateByNameLanguage(deps.db, name, language)) throw duplicate(name, language);
      }
      try {
        res.json(await updateTemplate(deps.db, params.id, patch));
      } catch (error) {
        if (isUniqueViolation(error)) throw duplicate(name, language);
        throw error;
      }
    },
  );

  // Archived templates stay readable (sequences and the message log name them) but are never sent.
  routes.post(
    '/:id/archive',
    { summary: 'Archive a template (no longer sent)', params: IdParams, responses: { 200: TemplateResponse } },
    async ({ params }, res) => {
      const archived = await archiveTemplate(deps.db, params.id);
      if (!archived) throw notFound('template');
      res.json(archived);
    },
  );

  return routes;
}

/**
 * The update an edit amounts to. Changing the header kind drops the header text or media URL
 * that no longer applies (unless the edit gives them), and changing reviewed content puts the
 * template back to `Pending` unless the edit sets a status itself.
 */
function editPatch(existing: Template, body: z.output<typeof UpdateTemplateBody>): TemplatePatch {
  const patch: TemplatePatch = { ...body };
  if (body.headerType !== undefined && body.headerType !== existing.headerType) {
    if (body.headerType !== 'text') patch.headerText = body.headerText ?? null;
    if (!MEDIA_HEADER_TYPES.includes(body.headerType)) patch.headerMediaUrl = body.headerMediaUrl ?? null;
  }
  const reviewedChange = REVIEWED_FIELDS.some(
    (field) => patch[field] !== undefined && JSON.stringify(patch[field]) !== JSON.stringify(existing[field]),
  );
  if (reviewedChange && body.approvalStatus === undefined) patch.approvalStatus = 'Pending';
  return patch;
}

const duplicate = (name: string, language: string): AppError =>
  conflict('template_exists', `a template named ${name} in language ${language} already exists`);
