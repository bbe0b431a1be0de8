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
import { startWelcomeWorkflow, wantsWelcome } from '../welcome/start';

function e164OrThrow(phone: string, defaultCountry: CountryCode): string {
  const result = normalizePhone(phone, defaultCountry);
  if (!result.ok) {
    throw new AppError('invalid', 'validation_failed', `body.phone: ${result.reason}`, {
      issues: [{ location: 'body', path: 'phone', message: result.reason }],
    });
  }
  return result.e164;
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
      const existing = await findLeadByPhone(deps.db, phone);
      if (existing) throw conflict('lead_exists', 'a lead with this phone already exists', { leadId: existing.id });
      const lead = await createLead(deps.db, { ...body, phone });
      const welcome = wantsWelcome(options, lead) ? await startWelcomeWorkflow(deps, lead, options) : undefined;
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
      res.json(updated);
    },
  );

  return routes;
}
