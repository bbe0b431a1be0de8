import { WorkflowNotFoundError } from '@temporalio/client';
import { getAssignment, listAssignmentEvents, listAssignments, listMessages } from '../db/queries';
import {
  ACTIVE_ASSIGNMENT_STATUSES,
  cancelDripSignal,
  dripProgressQuery,
  pauseDripSignal,
  resumeDripSignal,
} from './contract';
import type { ApiContext } from '../api/context';
import { queryOrNull } from '../workflow-client';
import { conflict, notFound } from '../errors';
import { AssignmentActionParams, CancelBody, ListAssignmentsQuery } from './assignments-schemas';
import { AssignmentActionResponse, AssignmentDetailResponse, AssignmentPageResponse } from './schemas';
import { IdParams } from '../api/schemas';
import { ApiRouter } from '../api/route';
import { z } from 'zod';

const DetailQuery = z.object({ live: z.enum(['true', 'false', '1', '0']).optional() });

export function assignmentsRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Drip assignments', checkResponses: deps.checkResponses });

  routes.get(
    '/',
    { summary: 'List assignments', query: ListAssignmentsQuery, responses: { 200: AssignmentPageResponse } },
    async ({ query }, res) => {
      res.json(await listAssignments(deps.db, query));
    },
  );

  routes.get(
    '/:id',
    {
      summary: 'One assignment with its step history and messages',
      description:
        '`live=true` also asks the running workflow for its progress (needs a worker; null when none answers).',
      params: IdParams,
      query: DetailQuery,
      responses: { 200: AssignmentDetailResponse },
    },
    async ({ params, query }, res) => {
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
          ? assignment.workflowId
            ? await queryOrNull(deps.temporal, assignment.workflowId, dripProgressQuery)
            : null
          : undefined;
      res.json({ ...assignment, events, messages: messages.items, ...(live !== undefined && { live }) });
    },
  );

  routes.post(
    '/:id/:action',
    {
      summary: 'Pause, resume or cancel a running drip',
      description: 'Signals the workflow; `cancel` takes an optional reason.',
      params: AssignmentActionParams,
      body: CancelBody,
      responses: { 202: AssignmentActionResponse, 409: { description: 'The drip has ended' } },
    },
    async ({ params, body }, res) => {
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
    },
  );

  return routes;
}
