import type { ApiContext } from '../api/context';
import { ApiRouter } from '../api/route';
import { IdParams } from '../api/schemas';
import {
  countSegment,
  createCustomFieldDefinition,
  createSegment,
  deleteCustomFieldDefinition,
  deleteSegment,
  getCustomFieldDefinition,
  getSegment,
  listCustomFieldDefinitions,
  listSegments,
  previewSegment,
  updateCustomFieldDefinition,
  updateSegment,
  type SegmentFilter,
} from '../db/queries';
import { isUniqueViolation } from '../db/errors';
import { conflict, invalidField as invalid, notFound } from '../errors';
import {
  CreateCustomFieldBody,
  CreateSegmentBody,
  CustomFieldListResponse,
  CustomFieldResponse,
  PreviewSegmentBody,
  SegmentMembersResponse,
  SegmentPageResponse,
  SegmentPaging,
  SegmentPreviewResponse,
  SegmentWithCountResponse,
  UpdateCustomFieldBody,
  UpdateSegmentBody,
} from './schemas';

/** Saved segments: named filters over leads with a live count and a page of members. */
export function segmentsRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Segments', checkResponses: deps.checkResponses });

  const nameTaken = () => conflict('segment_exists', 'a segment with this name already exists');

  routes.post(
    '/',
    {
      summary: 'Save a segment',
      description:
        'A named filter over leads: statuses, stages, sources, custom fields, created and last-contacted ranges, a list of ids. Opted-out and suppressed leads are left out unless `includeOptedOut` / `includeSuppressed`.',
      body: CreateSegmentBody,
      responses: { 201: SegmentWithCountResponse, 409: { description: 'A segment with this name exists' } },
    },
    async ({ body }, res) => {
      try {
        const segment = await createSegment(deps.db, body as { name: string; filter: SegmentFilter });
        res.status(201).json({ ...segment, count: await countSegment(deps.db, segment.filter) });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken();
        throw error;
      }
    },
  );

  routes.get(
    '/',
    { summary: 'List segments', query: SegmentPaging, responses: { 200: SegmentPageResponse } },
    async ({ query }, res) => {
      res.json(await listSegments(deps.db, query));
    },
  );

  routes.post(
    '/preview',
    {
      summary: 'Count and preview an unsaved filter',
      query: SegmentPaging,
      body: PreviewSegmentBody,
      responses: { 200: SegmentPreviewResponse },
    },
    async ({ query, body }, res) => {
      const filter = body.filter as SegmentFilter;
      res.json({ count: await countSegment(deps.db, filter), members: await previewSegment(deps.db, filter, query) });
    },
  );

  routes.get(
    '/:id',
    {
      summary: 'A segment with its live count',
      params: IdParams,
      responses: { 200: SegmentWithCountResponse },
    },
    async ({ params }, res) => {
      const segment = await getSegment(deps.db, params.id);
      if (!segment) throw notFound('segment');
      res.json({ ...segment, count: await countSegment(deps.db, segment.filter) });
    },
  );

  routes.get(
    '/:id/members',
    {
      summary: "A page of a segment's members (leads, by id)",
      params: IdParams,
      query: SegmentPaging,
      responses: { 200: SegmentMembersResponse },
    },
    async ({ params, query }, res) => {
      const segment = await getSegment(deps.db, params.id);
      if (!segment) throw notFound('segment');
      res.json(await previewSegment(deps.db, segment.filter, query));
    },
  );

  routes.patch(
    '/:id',
    {
      summary: 'Rename or refilter a segment',
      description: 'Campaigns already started keep the recipients they took; later ones use the new filter.',
      params: IdParams,
      body: UpdateSegmentBody,
      responses: { 200: SegmentWithCountResponse, 409: { description: 'A segment with this name exists' } },
    },
    async ({ params, body }, res) => {
      if (!(await getSegment(deps.db, params.id))) throw notFound('segment');
      try {
        const segment = (await updateSegment(deps.db, params.id, body as Partial<{ filter: SegmentFilter }>))!;
        res.json({ ...segment, count: await countSegment(deps.db, segment.filter) });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken();
        throw error;
      }
    },
  );

  routes.delete(
    '/:id',
    {
      summary: 'Delete a segment no campaign uses',
      params: IdParams,
      responses: { 204: { description: 'Deleted' }, 409: { description: 'A campaign uses this segment' } },
    },
    async ({ params }, res) => {
      const outcome = await deleteSegment(deps.db, params.id);
      if (outcome === 'not_found') throw notFound('segment');
      if (outcome === 'in_use') throw conflict('segment_in_use', 'a campaign uses this segment');
      res.status(204).end();
    },
  );

  return routes;
}

/** Custom-field definitions: what a lead's custom field may hold. Changing them is for admins. */
export function customFieldsRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Custom fields', checkResponses: deps.checkResponses, writeRole: 'admin' });

  routes.get(
    '/',
    { summary: 'List custom-field definitions', responses: { 200: CustomFieldListResponse } },
    async (_input, res) => {
      res.json({ items: await listCustomFieldDefinitions(deps.db) });
    },
  );

  routes.post(
    '/',
    {
      summary: 'Define a custom field',
      description:
        'Name, type (`text`, `number`, `boolean`, `date` as YYYY-MM-DD, `enum` with its allowed values). From then on a lead whose custom field breaks the definition is refused with 400 (create, update, CSV import). Leads already holding other values keep them.',
      body: CreateCustomFieldBody,
      responses: { 201: CustomFieldResponse, 409: { description: 'This field is already defined' } },
    },
    async ({ body }, res) => {
      try {
        res.status(201).json(await createCustomFieldDefinition(deps.db, body));
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('custom_field_exists', 'this custom field is already defined');
        throw error;
      }
    },
  );

  routes.patch(
    '/:id',
    {
      summary: 'Change a custom-field definition',
      params: IdParams,
      body: UpdateCustomFieldBody,
      responses: { 200: CustomFieldResponse },
    },
    async ({ params, body }, res) => {
      const current = await getCustomFieldDefinition(deps.db, params.id);
      if (!current) throw notFound('custom field');
      const type = body.type ?? current.type;
      const allowedValues = type === 'enum' ? (body.allowedValues ?? current.allowedValues) : [];
      if (type === 'enum' && allowedValues.length === 0) {
        throw invalid('allowedValues', 'an enum field needs its allowed values');
      }
      if (type !== 'enum' && body.allowedValues)
        throw invalid('allowedValues', 'only an enum field has allowed values');
      res.json(await updateCustomFieldDefinition(deps.db, params.id, { ...body, type, allowedValues }));
    },
  );

  routes.delete(
    '/:id',
    { summary: 'Remove a custom-field definition', params: IdParams, responses: { 204: { description: 'Removed' } } },
    async ({ params }, res) => {
      if (!(await deleteCustomFieldDefinition(deps.db, params.id))) throw notFound('custom field');
      res.status(204).end();
    },
  );

  return routes;
}
