import { Router } from 'express';
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
import { normalizePhone } from '../providers/phone';
import { defaultCountryOf, readInteraktOptions } from '../settings/provider-settings';
import type { ApiContext } from '../api/context';
import { AppError, conflict, notFound } from '../errors';
import { IdParams } from '../api/schemas';
import { CreateLeadBody, ListLeadsQuery, UpdateLeadBody } from './schemas';
import { handle } from '../api/validate';
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

export function leadsRouter(deps: ApiContext): Router {
  const router = Router();

  router.post(
    '/',
    handle({ body: CreateLeadBody }, async ({ body }, res) => {
      const options = await readInteraktOptions(deps.db);
      const phone = e164OrThrow(body.phone, defaultCountryOf(options, deps.defaultCountry));
      const existing = await findLeadByPhone(deps.db, phone);
      if (existing) throw conflict('lead_exists', `a lead with phone ${phone} already exists`, { leadId: existing.id });
      const lead = await createLead(deps.db, { ...body, phone });
      const welcome = wantsWelcome(options, lead) ? await startWelcomeWorkflow(deps, lead, options) : undefined;
      res.status(201).json(welcome ? { ...lead, welcome } : lead);
    }),
  );

  router.get(
    '/',
    handle({ query: ListLeadsQuery }, async ({ query }, res) => {
      res.json(await listLeads(deps.db, query));
    }),
  );

  router.get(
    '/:id',
    handle({ params: IdParams }, async ({ params }, res) => {
      const lead = await getLead(deps.db, params.id);
      if (!lead) throw notFound('lead');
      res.json(lead);
    }),
  );

  // The lead's timeline: notes (CTA clicks, brochure sent, follow-ups stopped) and tasks.
  router.get(
    '/:id/timeline',
    handle({ params: IdParams }, async ({ params }, res) => {
      if (!(await getLead(deps.db, params.id))) throw notFound('lead');
      const [notes, tasks] = await Promise.all([listLeadNotes(deps.db, params.id), listLeadTasks(deps.db, params.id)]);
      res.json({ notes, tasks });
    }),
  );

  router.patch(
    '/:id',
    handle({ params: IdParams, body: UpdateLeadBody }, async ({ params, body }, res) => {
      const lead = await getLead(deps.db, params.id);
      if (!lead) throw notFound('lead');
      const phone =
        body.phone === undefined
          ? undefined
          : e164OrThrow(body.phone, defaultCountryOf(await readInteraktOptions(deps.db), deps.defaultCountry));
      if (phone && phone !== lead.phone) {
        const other = await findLeadByPhone(deps.db, phone);
        if (other) throw conflict('lead_exists', `a lead with phone ${phone} already exists`, { leadId: other.id });
      }
      const updated = await updateLead(deps.db, params.id, { ...body, ...(phone && { phone }) });
      if (body.optedOut === true && !lead.optedOut) {
        const drips = await listActiveAssignmentsForLead(deps.db, params.id);
        await stopDrips({ temporal: deps.temporal, log: deps.log }, drips, 'opted_out');
      }
      res.json(updated);
    }),
  );

  return router;
}
