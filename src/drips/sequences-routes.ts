import { archiveSequence, createSequence, getSequence, listSequences, updateSequence } from '../db/queries';
import { checkSequenceSteps, type NamedTemplateUse } from '../templates/check';
import type { ApiContext } from '../api/context';
import { enrolLeads } from './enrol';
import { AppError, conflict, InvalidInputError, notFound } from '../errors';
import { IdParams } from '../api/schemas';
import {
  AssignBody,
  AssignResultResponse,
  CreateSequenceBody,
  ListSequencesQuery,
  SequencePageResponse,
  SequenceWithStepsResponse,
  UpdateSequenceBody,
} from './schemas';
import { ApiRouter } from '../api/route';
import { TimelineQuery, TimelineResponse } from '../delivery/schemas';
import { previewTimeline } from './timeline';
import { storedSender } from '../messages/senders';

export function sequencesRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Drip sequences', checkResponses: deps.checkResponses });

  routes.post(
    '/',
    {
      summary: 'Create a sequence with its steps',
      description:
        'Each step names an approved template in Message Master and maps its variables; a step the template cannot take is a 400.',
      body: CreateSequenceBody,
      responses: { 201: SequenceWithStepsResponse },
    },
    async ({ body }, res) => {
      await assertStepsUsable(deps, body.steps);
      res.status(201).json(await createSequence(deps.db, { ...body, sender: storedSender(deps.senders, body.sender) }));
    },
  );

  routes.get(
    '/',
    { summary: 'List sequences', query: ListSequencesQuery, responses: { 200: SequencePageResponse } },
    async ({ query }, res) => {
      res.json(await listSequences(deps.db, query));
    },
  );

  routes.get(
    '/:id',
    { summary: 'Read a sequence with its steps', params: IdParams, responses: { 200: SequenceWithStepsResponse } },
    async ({ params }, res) => {
      const sequence = await getSequence(deps.db, params.id);
      if (!sequence) throw notFound('sequence');
      res.json(sequence);
    },
  );

  routes.get(
    '/:id/timeline',
    {
      summary: 'Preview when each step would be sent to a lead (or in a time zone)',
      description:
        "Every step's planned send time from `from` (default now): its delay after the previous send, then the send window and quiet days in the lead's time zone and, for a lead, the frequency cap given what they have already been sent. The drip workflow waits by the same computation.",
      params: IdParams,
      query: TimelineQuery,
      responses: { 200: TimelineResponse },
    },
    async ({ params, query }, res) => {
      const sequence = await getSequence(deps.db, params.id);
      if (!sequence) throw notFound('sequence');
      const from = query.from ? new Date(query.from) : new Date();
      res.json(await previewTimeline(deps.db, sequence, { leadId: query.leadId, timeZone: query.timeZone, from }));
    },
  );

  // Editing bumps the version; running assignments keep the snapshot they started with.
  routes.patch(
    '/:id',
    {
      summary: 'Edit a sequence',
      description: 'A new version; running assignments keep the steps they started with.',
      params: IdParams,
      body: UpdateSequenceBody,
      responses: { 200: SequenceWithStepsResponse, 409: { description: 'The sequence is archived' } },
    },
    async ({ params, body }, res) => {
      const existing = await getSequence(deps.db, params.id);
      if (!existing) throw notFound('sequence');
      if (existing.archivedAt) throw conflict('sequence_archived', 'an archived sequence cannot be edited');
      if (body.steps) await assertStepsUsable(deps, body.steps);
      const { sender, ...rest } = body;
      res.json(
        await updateSequence(deps.db, params.id, {
          ...rest,
          ...(sender !== undefined && { sender: storedSender(deps.senders, sender) }),
        }),
      );
    },
  );

  // Archiving stops new assignments; running ones finish their snapshot.
  routes.post(
    '/:id/archive',
    {
      summary: 'Archive a sequence (no new assignments)',
      params: IdParams,
      responses: { 200: SequenceWithStepsResponse },
    },
    async ({ params }, res) => {
      if (!(await getSequence(deps.db, params.id))) throw notFound('sequence');
      await archiveSequence(deps.db, params.id);
      res.json(await getSequence(deps.db, params.id));
    },
  );

  routes.post(
    '/:id/assignments',
    {
      summary: 'Assign the sequence to leads',
      description:
        'One drip workflow per lead. Leads that cannot start are listed with the reason (`lead_not_found`, `opted_out`, `suppressed`, `already_assigned`, `duplicate_in_request`, `start_failed`); for a single lead a refusal is an error.',
      params: IdParams,
      body: AssignBody,
      responses: {
        201: AssignResultResponse,
        200: { description: 'Nothing started: every lead was skipped', schema: AssignResultResponse },
        409: { description: 'The sequence is archived, or the one lead cannot start' },
        503: { description: "The one lead's workflow could not be started" },
      },
    },
    async ({ params, body }, res) => {
      const sequence = await getSequence(deps.db, params.id);
      if (!sequence) throw notFound('sequence');
      if (sequence.archivedAt) throw conflict('sequence_archived', 'an archived sequence cannot be assigned');

      const result = await enrolLeads(
        { db: deps.db, temporal: deps.temporal, taskQueue: deps.taskQueue, sendTaskQueue: deps.sendTaskQueue },
        sequence,
        body.leadIds,
      );
      if (body.leadIds.length === 1 && result.started.length === 0) throw singleLeadRefusal(result.skipped[0]);

      const reasons: Record<string, number> = {};
      for (const skip of result.skipped) reasons[skip.reason] = (reasons[skip.reason] ?? 0) + 1;
      res.status(result.started.length > 0 ? 201 : 200).json({
        started: result.started.length,
        skipped: result.skipped.length,
        skippedByReason: reasons,
        assignments: result.started,
        skippedLeads: result.skipped,
      });
    },
  );

  return routes;
}

/** Each step's template must exist in Message Master and accept the step's variables: else 400, nothing written. */
async function assertStepsUsable(deps: ApiContext, steps: readonly NamedTemplateUse[]): Promise<void> {
  const issues = await checkSequenceSteps(deps.db, steps);
  if (issues.length > 0) throw new InvalidInputError(issues.map((issue) => ({ location: 'body', ...issue })));
}

function singleLeadRefusal(skip: { leadId: number; reason: string; assignmentId?: number } | undefined): AppError {
  switch (skip?.reason) {
    case 'lead_not_found':
      return notFound(`lead ${skip.leadId}`);
    case 'opted_out':
      return conflict('lead_opted_out', `lead ${skip.leadId} has opted out of messages`);
    case 'already_assigned':
      return conflict('already_assigned', `lead ${skip.leadId} is already on this sequence`, {
        assignmentId: skip.assignmentId,
      });
    default:
      return new AppError('unavailable', 'start_failed', 'the drip workflow could not be started; try again');
  }
}
