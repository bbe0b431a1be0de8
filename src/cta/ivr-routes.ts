import { z } from 'zod';
import type { CountryCode } from 'libphonenumber-js';
import { processIvrCalls, recordIvrCall, type IvrCallEvent, type RecordedIvrCall } from './ivr';
import type { CtaStartDeps } from './start';
import { listIvrCalls, type IvrCall } from '../db/queries';
import { maskPhone } from '../logging/redact';
import { normalizePhone } from '../providers/phone';
import { defaultCountryOf, readInteraktOptions } from '../settings/provider-settings';
import { type FieldIssue, InvalidInputError } from '../errors';
import { ListIvrCallsQuery, PostIvrCallsBody, ProcessIvrCallsBody } from './ivr-schemas';
import { ApiRouter } from '../api/route';
import {
  IvrCallPageResponse,
  ProcessIvrCallsResponse,
  RecordedIvrCallBatchResponse,
  RecordedIvrCallResponse,
} from './ivr-schemas';

export interface IvrRouterDeps extends CtaStartDeps {
  checkResponses: boolean;
  defaultCountry: CountryCode;
}

/**
 * `/ivr`: call events from the IVR, the call log, and turning received calls into CTA flows.
 * Callers' numbers leave only masked: the lead id is the way to the person.
 */
export function ivrRouter(deps: IvrRouterDeps): ApiRouter {
  const routes = new ApiRouter({ tag: 'IVR calls', checkResponses: deps.checkResponses });

  routes.post(
    '/calls',
    {
      summary: 'Log an IVR call, or a batch of up to 500',
      description:
        'Logged once per callId (a repeat answers 200 with duplicate: true); the caller is matched to a lead by normalised phone, or a lead is created (source ivr).',
      body: PostIvrCallsBody,
      responses: {
        201: RecordedIvrCallResponse,
        200: {
          description: 'A repeated call id (nothing written), or the results of a batch',
          schema: z.union([RecordedIvrCallResponse, RecordedIvrCallBatchResponse]),
        },
      },
    },
    async ({ body }, res) => {
      const country = defaultCountryOf(await readInteraktOptions(deps.db), deps.defaultCountry);
      const calls = 'calls' in body ? body.calls : [body];
      // Every caller is checked before the first write, so a bad batch writes nothing.
      const issues = calls.flatMap((call, index) =>
        callerIssues(call, country, 'calls' in body ? `calls.${index}.` : ''),
      );
      if (issues.length > 0) throw new InvalidInputError(issues);

      if (!('calls' in body)) {
        const recorded = await recordIvrCall({ db: deps.db, defaultCountry: country }, body);
        res.status(recorded.duplicate ? 200 : 201).json(toResponse(recorded));
        return;
      }
      const results = [];
      for (const call of body.calls)
        results.push(toResponse(await recordIvrCall({ db: deps.db, defaultCountry: country }, call)));
      const duplicates = results.filter((result) => result.duplicate).length;
      res.json({ created: results.length - duplicates, duplicates, results });
    },
  );

  routes.get(
    '/calls',
    { summary: 'The IVR call log', query: ListIvrCallsQuery, responses: { 200: IvrCallPageResponse } },
    async ({ query }, res) => {
      const page = await listIvrCalls(deps.db, query);
      res.json({ ...page, items: page.items.map(maskCall) });
    },
  );

  routes.post(
    '/calls/process',
    {
      summary: 'Turn received calls into CTA flows',
      description:
        'Oldest first, each into the flow given or the flow whose IVR number was called; a call that starts nothing is skipped with its reason.',
      body: ProcessIvrCallsBody,
      responses: {
        200: ProcessIvrCallsResponse,
        404: { description: 'The flow given does not exist' },
        409: { description: 'The flow given is archived' },
      },
    },
    async ({ body }, res) => {
      res.json(await processIvrCalls(deps, body));
    },
  );

  return routes;
}

function callerIssues(call: IvrCallEvent, country: CountryCode, prefix: string): FieldIssue[] {
  const result = normalizePhone(call.callerNumber, country);
  return result.ok ? [] : [{ location: 'body', path: `${prefix}callerNumber`, message: result.reason }];
}

function toResponse({ duplicate, call }: RecordedIvrCall) {
  return { callId: call.callId, duplicate, leadId: call.leadId, leadCreated: call.leadCreated, call: maskCall(call) };
}

function maskCall(call: IvrCall): IvrCall {
  return { ...call, callerNumber: maskPhone(call.callerNumber), callerPhone: maskPhone(call.callerPhone) };
}
