import { WorkflowNotFoundError } from '@temporalio/client';
import { Router } from 'express';
import { getAssignment, listAssignmentEvents, listAssignments, listMessages } from '../db/queries';
import {
  ACTIVE_ASSIGNMENT_STATUSES,
  cancelDripSignal,
  dripProgressQuery,
  pauseDripSignal,
  resumeDripSignal,
} from './contract';
import type { ApiContext } from '../api/context';
import { conflict, notFound } from '../errors';
import { AssignmentActionParams, CancelBody, ListAssignmentsQuery } from './assignments-schemas';
import { IdParams } from '../api/schemas';
import { handle } from '../api/validate';
import { z } from 'zod';

const DetailQuery = z.object({ live: z.enum(['true', 'false', '1', '0']).optional() });

export function assignmentsRouter(deps: ApiContext): Router {
  const router = Router();

  router.get(
    '/',
    handle({ query: ListAssignmentsQuery }, async ({ query }, res) => {
      res.json(await listAssignments(deps.db, query));
    }),
  );

  router.get(
    '/:id',
    handle({ params: IdParams, query: DetailQuery }, async ({ params, query }, res) => {
      const assignment = await getAssignment(deps.db, params.id);
      if (!assignment) throw notFound('assignment');
      const [events, messages] = await Promise.all([
        listAssignmentEvents(deps.db, assignment.id),
        listMessages(deps.db, {
          referenceType: 'drip',
          referenceId: String(assignment.id),
          order: 'asc',
          page: 1,
          pageSize: 500,
        }),
      ]);
      // The live view asks the running workflow itself; it needs a worker to answer.
      const live =
        query.live === 'true' || query.live === '1'
          ? await deps.temporal.workflow
              .getHandle(assignment.workflowId ?? '')
              .query(dripProgressQuery)
              .catch(() => null)
          : undefined;
      res.json({ ...assignment, events, messages: messages.items, ...(live !== undefined && { live }) });
    }),
  );

  router.post(
    '/:id/:action',
    handle({ params: AssignmentActionParams, body: CancelBody }, async ({ params, body }, res) => {
      const assignment = await getAssignment(deps.db, params.id);
      if (!assignment) throw notFound('assignment');
      if (!ACTIVE_ASSIGNMENT_STATUSES.includes(assignment.status) || !assignment.workflowId) {
        throw conflict('assignment_finished', `assignment is ${assignment.status}`);
      }
      const handle = deps.temporal.workflow.getHandle(assignment.workflowId);
      try {
        if (params.action === 'pause') await handle.signal(pauseDripSignal);
        else if (params.action === 'resume') await handle.signal(resumeDripSignal);
        else await handle.signal(cancelDripSignal, { reason: body.reason });
      } catch (error) {
        if (error instanceof WorkflowNotFoundError)
          throw conflict('assignment_finished', 'the drip workflow has already ended');
        throw error;
      }
      res.status(202).json({ id: assignment.id, workflowId: assignment.workflowId, requested: params.action });
    }),
  );

  return router;
}
