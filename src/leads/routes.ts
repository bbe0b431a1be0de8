import type { CountryCode } from 'libphonenumber-js';
import {
  createLead,
  findLeadByPhone,
  getLead,
  listActiveAssignmentsForLead,
  listLeadNotes,
  listLeads,
  listLeadTasks,
  updateLead,
} from '../db/queries';
import { stopDrips } from '../drips/stop';
import { dripsExitingOn, EXIT_STATUS_REASON } from '../drips/exits';
import { normalizePhone } from '../providers/phone';
import { defaultCountryOf, readInteraktOptions } from '../settings/provider-settings';
import type { ApiContext } from '../api/context';
import { AppError, conflict, notFound } from '../errors';
import { IdParams } from '../api/schemas';
import {
  CreatedLeadResponse,
  CreateLeadBody,
  LeadPageResponse,
  LeadResponse,
  LeadTimelineResponse,
  ListLeadsQuery,
  UpdateLeadBody,
} from './schemas';
import { ApiRouter } from '../api/route';
import { findLeadsByContact } from '../db/queries';
import { customFieldProblem, loadCustomFieldRules } from '../segments/custom-fields';
import { CsvImportError, importLeadsCsv, MAX_IMPORT_ROWS } from './import';
import { ImportLeadsQuery, ImportReportResponse, LeadListResponse, SearchLeadsQuery } from './schemas';
import { InvalidInputError } from '../errors';
import { z } from 'zod';
import { startWelcomeWorkflow, wantsWelcome } from '../welcome/start';
import { mirrorLeadToInterakt } from '../interakt-track/start';

function e164OrThrow(phone: string, defaultCountry: CountryCode): string {
  const result = normalizePhone(phone, defaultCountry);
  if (!result.ok) {
    throw new AppError('invalid', 'validation_failed', `body.phone: ${result.reason}`, {
      issues: [{ location: 'body', path: 'phone', message: result.reason }],
    });
  }
  return result.e164;
}

/** Every custom field that breaks its definition (custom-field definitions): 400, nothing written. */
async function assertCustomFields(deps: ApiContext, fields: Record<string, unknown> | undefined): Promise<void> {
  if (!fields) return;
  const rules = await loadCustomFieldRules(deps.db);
  const issues = Object.entries(fields).flatMap(([key, value]) => {
    const problem = customFieldProblem(rules, key, value);
    return problem ? [{ location: 'body' as const, path: `customFields.${key}`, message: problem }] : [];
  });
  if (issues.length > 0) throw new InvalidInputError(issues);
}

export function leadsRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Leads', checkResponses: deps.checkResponses });

  routes.post(
    '/',
    {
      summary: 'Create a lead',
      description:
        "The phone is normalised to E.164 (the settings' country, else DEFAULT_COUNTRY, for numbers without one). A welcome starts when the settings ask for one.",
      body: CreateLeadBody,
      responses: {
        201: CreatedLeadResponse,
        409: { description: 'A lead with this phone exists (`leadId` names it)' },
      },
    },
    async ({ body }, res) => {
      const options = await readInteraktOptions(deps.db);
      const phone = e164OrThrow(body.phone, defaultCountryOf(options, deps.defaultCountry));
      await assertCustomFields(deps, body.customFields);
      const existing = await findLeadByPhone(deps.db, phone);
      if (existing) throw conflict('lead_exists', 'a lead with this phone already exists', { leadId: existing.id });
      const lead = await createLead(deps.db, { ...body, phone });
      const welcome = wantsWelcome(options, lead) ? await startWelcomeWorkflow(deps, lead, options) : undefined;
      await mirrorLeadToInterakt(deps, lead);
      res.status(201).json(welcome ? { ...lead, welcome } : lead);
    },
  );

  routes.get(
    '/',
    {
      summary: 'List and search leads',
      description:
        '`search` matches name, phone or email; `field.<key>=<value>` (or `customField=<key>:<value>`, repeatable, at most 20) matches custom fields.',
      query: ListLeadsQuery,
      responses: { 200: LeadPageResponse },
    },
    async ({ query }, res) => {
      res.json(await listLeads(deps.db, query));
    },
  );

  routes.get(
    '/search',
    {
      summary: 'Find leads by e-mail or phone',
      description:
        "Exact matches (the seed's /crm/chat/search): `email` case-insensitively, `phone` after normalising it to E.164 like a lead's. At least one is required; both match either.",
      query: SearchLeadsQuery,
      responses: { 200: LeadListResponse },
    },
    async ({ query }, res) => {
      const phone =
        query.phone === undefined
          ? undefined
          : normalizePhone(query.phone, defaultCountryOf(await readInteraktOptions(deps.db), deps.defaultCountry));
      if (phone && !phone.ok) {
        throw new InvalidInputError([{ location: 'query', path: 'phone', message: 'not a valid phone number' }]);
      }
      res.json({ items: await findLeadsByContact(deps.db, { email: query.email, phone: phone?.e164 }) });
    },
  );

  routes.post(
    '/import',
    {
      summary: 'Import leads from CSV',
      description: `A CSV file (\`text/csv\`, up to ${MAX_IMPORT_ROWS.toLocaleString('en')} rows) with a header row: \`phone\` and any of \`name\`, \`firstName\`, \`lastName\`, \`email\`, \`status\`, \`stage\`, \`source\`, \`timeZone\`, \`optedOut\`, \`custom.<key>\`. Phones are normalised to E.164; rows with the same phone merge; a phone that is already a lead updates it. Each rejected row is reported with its line and reason and the others are imported; a file that is not valid CSV is refused whole (400) and nothing is written. \`dryRun=true\` checks without writing.`,
      query: ImportLeadsQuery,
      rawBody: { contentType: 'text/csv', schema: z.string(), description: 'The CSV file' },
      responses: { 200: ImportReportResponse },
    },
    async ({ query }, res, req) => {
      if (!req.is('text/csv')) {
        throw new AppError('invalid', 'unsupported_content_type', 'send the file as text/csv');
      }
      const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
      if (encoding !== 'identity') {
        throw new AppError(
          'invalid',
          'unsupported_content_encoding',
          'send the file uncompressed (no Content-Encoding)',
        );
      }
      const options = await readInteraktOptions(deps.db);
      try {
        res.json(
          await importLeadsCsv(deps.db, req, {
            defaultCountry: defaultCountryOf(options, deps.defaultCountry),
            dryRun: query.dryRun,
          }),
        );
      } catch (error) {
        if (error instanceof CsvImportError) {
          throw new AppError('invalid', error.code, error.message, error.line ? { line: error.line } : undefined);
        }
        throw error;
      }
    },
  );

  routes.get(
    '/:id',
    { summary: 'Read a lead', params: IdParams, responses: { 200: LeadResponse } },
    async ({ params }, res) => {
      const lead = await getLead(deps.db, params.id);
      if (!lead) throw notFound('lead');
      res.json(lead);
    },
  );

  // The lead's timeline: notes (CTA clicks, brochure sent, follow-ups stopped) and tasks.
  routes.get(
    '/:id/timeline',
    { summary: "A lead's notes and tasks", params: IdParams, responses: { 200: LeadTimelineResponse } },
    async ({ params }, res) => {
      if (!(await getLead(deps.db, params.id))) throw notFound('lead');
      const [notes, tasks] = await Promise.all([listLeadNotes(deps.db, params.id), listLeadTasks(deps.db, params.id)]);
      res.json({ notes, tasks });
    },
  );

  routes.patch(
    '/:id',
    {
      summary: 'Update a lead',
      description:
        "Opting out stops every running drip of the lead; a status or stage that is one of a sequence's exit statuses ends the lead's drips of that sequence.",
      params: IdParams,
      body: UpdateLeadBody,
      responses: { 200: LeadResponse, 409: { description: 'Another lead has this phone' } },
    },
    async ({ params, body }, res) => {
      const lead = await getLead(deps.db, params.id);
      if (!lead) throw notFound('lead');
      await assertCustomFields(deps, body.customFields);
      const phone =
        body.phone === undefined
          ? undefined
          : e164OrThrow(body.phone, defaultCountryOf(await readInteraktOptions(deps.db), deps.defaultCountry));
      if (phone && phone !== lead.phone) {
        const other = await findLeadByPhone(deps.db, phone);
        if (other) throw conflict('lead_exists', 'a lead with this phone already exists', { leadId: other.id });
      }
      const updated = await updateLead(deps.db, params.id, { ...body, ...(phone && { phone }) });
      if (body.optedOut === true && !lead.optedOut) {
        const drips = await listActiveAssignmentsForLead(deps.db, params.id);
        await stopDrips({ temporal: deps.temporal, log: deps.log }, drips, 'opted_out');
      } else if (updated && (updated.status !== lead.status || updated.stage !== lead.stage)) {
        // A sequence that ends on this status or stage (e.g. Won, Lost) ends now, mid-delay.
        const exiting = await dripsExitingOn(deps.db, params.id, {
          kind: 'status',
          status: updated.status,
          stage: updated.stage,
        });
        await stopDrips({ temporal: deps.temporal, log: deps.log }, exiting, EXIT_STATUS_REASON);
      }
      if (updated) await mirrorLeadToInterakt(deps, updated, lead);
      res.json(updated);
    },
  );

  return routes;
}
