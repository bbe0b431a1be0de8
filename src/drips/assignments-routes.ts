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
import { RescheduleBody, RescheduleResponse, RetryResponse } from '../delivery/schemas';
import { rescheduleDrip, retryFailedDrip } from './control';

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

  const control = () => ({
    db: deps.db,
    temporal: deps.temporal,
    taskQueue: deps.taskQueue,
    sendTaskQueue: deps.sendTaskQueue,
  });

  routes.post(
    '/:id/schedule',
    {
      summary: "Change one lead's schedule: send the next step now, snooze it, or move it",
      description:
        "A Temporal Update on the running drip; the answer is the new next-send time, already in the assignment row. A time in the past, or outside the lead's send window, is refused (409 `reschedule_refused`); a snooze lands on the window's next opening. The frequency cap still applies when the step is sent.",
      params: IdParams,
      body: RescheduleBody,
      responses: {
        200: RescheduleResponse,
        409: {
          description:
            'The drip has ended, is paused or sending, the time breaks the window rules (`reschedule_refused`), or no worker answered (`drip_not_answering`)',
        },
      },
    },
    async ({ params, body }, res) => {
      res.json(await rescheduleDrip(control(), params.id, body));
    },
  );

  routes.post(
    '/:id/retry',
    {
      summary: 'Retry a failed drip from its failed step',
      description:
        'Starts the drip again at the step that failed, under the same idempotency key: a step the provider refused is sent again, a step the provider had in fact accepted is not sent twice.',
      params: IdParams,
      responses: {
        202: RetryResponse,
        409: { description: 'The drip has not failed, or is running, or the lead is on the sequence again' },
      },
    },
    async ({ params }, res) => {
      res.status(202).json(await retryFailedDrip(control(), params.id));
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
