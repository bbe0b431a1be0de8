import { Router } from 'express';
import { archiveSequence, createSequence, getSequence, listSequences, updateSequence } from '../db/queries';
import { checkSequenceSteps, type NamedTemplateUse } from '../templates/check';
import type { ApiContext } from '../api/context';
import { enrolLeads } from './enrol';
import { AppError, conflict, InvalidInputError, notFound } from '../errors';
import { IdParams } from '../api/schemas';
import { AssignBody, CreateSequenceBody, ListSequencesQuery, UpdateSequenceBody } from './schemas';
import { handle } from '../api/validate';
import { storedSender } from '../messages/senders';

export function sequencesRouter(deps: ApiContext): Router {
  const router = Router();

  router.post(
    '/',
    handle({ body: CreateSequenceBody }, async ({ body }, res) => {
      await assertStepsUsable(deps, body.steps);
      res.status(201).json(await createSequence(deps.db, { ...body, sender: storedSender(deps.senders, body.sender) }));
    }),
  );

  router.get(
    '/',
    handle({ query: ListSequencesQuery }, async ({ query }, res) => {
      res.json(await listSequences(deps.db, query));
    }),
  );

  router.get(
    '/:id',
    handle({ params: IdParams }, async ({ params }, res) => {
      const sequence = await getSequence(deps.db, params.id);
      if (!sequence) throw notFound('sequence');
      res.json(sequence);
    }),
  );

  // Editing bumps the version; running assignments keep the snapshot they started with.
  router.patch(
    '/:id',
    handle({ params: IdParams, body: UpdateSequenceBody }, async ({ params, body }, res) => {
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
    }),
  );

  // Archiving stops new assignments; running ones finish their snapshot.
  router.post(
    '/:id/archive',
    handle({ params: IdParams }, async ({ params }, res) => {
      if (!(await getSequence(deps.db, params.id))) throw notFound('sequence');
      await archiveSequence(deps.db, params.id);
      res.json(await getSequence(deps.db, params.id));
    }),
  );

  router.post(
    '/:id/assignments',
    handle({ params: IdParams, body: AssignBody }, async ({ params, body }, res) => {
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
    }),
  );

  return router;
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
