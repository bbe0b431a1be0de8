import { dripWorkflowId } from '../../src/drips/contract';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import {
  addAssignmentEvent,
  createAssignments,
  createLead,
  createSequence,
  findActiveAssignments,
  getAssignment,
  listActiveAssignmentsForLead,
  listAssignmentEvents,
  listAssignments,
  updateAssignment,
  type NewAssignment,
} from '../../src/db/queries';
import { withTransaction } from '../../src/db/client';
import type { DripStepSnapshot } from '../../src/drips/contract';
import { createTestDb } from '../support/db';

let db: Db;
beforeEach(async () => {
  db = await createTestDb();
});
afterEach(async () => {
  await db.close();
});

const steps: DripStepSnapshot[] = [
  { templateName: 'welcome', templateLanguage: 'en', delaySeconds: 0, variables: { body: [{ field: 'name' }] } },
  { templateName: 'nudge', templateLanguage: 'en', delaySeconds: 3600, variables: {} },
];

async function seed(leadCount: number) {
  const sequence = await createSequence(db, { name: 'S', steps: [] });
  const leadIds = await withTransaction(db, async (tx) => {
    const ids: number[] = [];
    for (let i = 0; i < leadCount; i++)
      ids.push((await createLead(tx, { name: `L${i}`, phone: `+9170000${String(i).padStart(5, '0')}` })).id);
    return ids;
  });
  const rowsFor = (ids: number[]): NewAssignment[] =>
    ids.map((leadId) => ({ leadId, sequenceId: sequence.id, sequenceVersion: 1, steps }));
  return { sequence, leadIds, rowsFor };
}

describe('assignments', () => {
  it('createAssignments inserts pending rows with the steps snapshot and WorkflowId drip-<id>', async () => {
    const { leadIds, rowsFor } = await seed(2);

    const { created, conflicts } = await createAssignments(db, rowsFor(leadIds), dripWorkflowId);

    expect(conflicts).toEqual([]);
    expect(created.map((c) => c.leadId).sort()).toEqual([...leadIds].sort());
    const first = await getAssignment(db, created[0]!.id);
    expect(first).toMatchObject({
      status: 'pending',
      nextStep: 0,
      totalSteps: 2,
      workflowId: `drip-${created[0]!.id}`,
      sequenceVersion: 1,
    });
    expect(first!.stepsSnapshot).toEqual(steps);
    expect(first!.startedAt).toBeInstanceOf(Date);
  });

  it('the database refuses a second live assignment of a sequence to a lead, and allows one after the first completes', async () => {
    const { leadIds, rowsFor } = await seed(1);
    const [first] = (await createAssignments(db, rowsFor(leadIds), dripWorkflowId)).created;

    const refused = await createAssignments(db, rowsFor(leadIds), dripWorkflowId);
    expect(refused).toEqual({ created: [], conflicts: leadIds });

    await updateAssignment(db, first!.id, { status: 'completed', completedAt: new Date() });
    const allowed = await createAssignments(db, rowsFor(leadIds), dripWorkflowId);
    expect(allowed.conflicts).toEqual([]);
    expect(allowed.created).toHaveLength(1);
  });

  it('a chunk with a refused lead falls back row by row: the other leads of the chunk are still created', async () => {
    const { leadIds, rowsFor } = await seed(5);
    await createAssignments(db, rowsFor([leadIds[2]!]), dripWorkflowId);

    const result = await createAssignments(db, rowsFor(leadIds), dripWorkflowId);

    expect(result.conflicts).toEqual([leadIds[2]]);
    expect(result.created.map((c) => c.leadId).sort()).toEqual(leadIds.filter((id) => id !== leadIds[2]).sort());
    for (const { id } of result.created) expect((await getAssignment(db, id))?.workflowId).toBe(`drip-${id}`);
  });

  it('createAssignments handles more rows than one insert statement carries', async () => {
    const { leadIds, rowsFor } = await seed(250);
    const result = await createAssignments(db, rowsFor(leadIds), dripWorkflowId);
    expect(result.created).toHaveLength(250);
    expect(new Set(result.created.map((c) => c.id)).size).toBe(250);
  });

  it('findActiveAssignments reports only pending, active and paused assignments of that sequence among the given leads', async () => {
    const { sequence, leadIds, rowsFor } = await seed(3);
    const { created } = await createAssignments(db, rowsFor(leadIds), dripWorkflowId);
    await updateAssignment(db, created[1]!.id, { status: 'paused' });
    await updateAssignment(db, created[2]!.id, { status: 'cancelled', stopReason: 'admin' });

    const found = await findActiveAssignments(db, { sequenceId: sequence.id, leadIds: [...leadIds, 999_999] });

    expect(found.map((f) => [f.leadId, f.status]).sort()).toEqual(
      [
        [leadIds[0], 'pending'],
        [leadIds[1], 'paused'],
      ].sort(),
    );
    expect(await findActiveAssignments(db, { sequenceId: sequence.id + 1, leadIds })).toEqual([]);
  });

  it('updateAssignment writes the progress fields and returns false for an unknown id', async () => {
    const { leadIds, rowsFor } = await seed(1);
    const [row] = (await createAssignments(db, rowsFor(leadIds), dripWorkflowId)).created;
    const due = new Date('2030-01-02T03:04:05.678Z');

    expect(
      await updateAssignment(db, row!.id, { status: 'active', nextStep: 1, nextSendAt: due, lastError: 'x' }),
    ).toBe(true);
    expect(await getAssignment(db, row!.id)).toMatchObject({
      status: 'active',
      nextStep: 1,
      nextSendAt: due,
      lastError: 'x',
    });
    expect(await updateAssignment(db, 999_999, { status: 'active' })).toBe(false);
  });

  it('listAssignments filters by sequence, lead and status and pages newest first', async () => {
    const { sequence, leadIds, rowsFor } = await seed(5);
    const { created } = await createAssignments(db, rowsFor(leadIds), dripWorkflowId);
    await updateAssignment(db, created[0]!.id, { status: 'completed' });

    const page = await listAssignments(db, { sequenceId: sequence.id, page: 1, pageSize: 2 });
    expect(page.total).toBe(5);
    expect(page.items.map((a) => a.id)).toEqual([...created.map((c) => c.id)].sort((a, b) => b - a).slice(0, 2));

    const completed = await listAssignments(db, { status: 'completed', page: 1, pageSize: 10 });
    expect(completed.items.map((a) => a.id)).toEqual([created[0]!.id]);
    const ofLead = await listAssignments(db, { leadId: leadIds[3]!, page: 1, pageSize: 10 });
    expect(ofLead.items.map((a) => a.leadId)).toEqual([leadIds[3]]);
  });

  it('listActiveAssignmentsForLead lists the lead’s live assignments across sequences', async () => {
    const { leadIds, rowsFor } = await seed(1);
    const other = await createSequence(db, { name: 'other', steps: [] });
    const [a] = (await createAssignments(db, rowsFor(leadIds), dripWorkflowId)).created;
    const [b] = (
      await createAssignments(
        db,
        [{ leadId: leadIds[0]!, sequenceId: other.id, sequenceVersion: 1, steps }],
        dripWorkflowId,
      )
    ).created;
    await updateAssignment(db, a!.id, { status: 'failed' });

    const live = await listActiveAssignmentsForLead(db, leadIds[0]!);
    expect(live.map((x) => x.id)).toEqual([b!.id]);
  });

  it('assignment events are listed in the order they were added', async () => {
    const { leadIds, rowsFor } = await seed(1);
    const [row] = (await createAssignments(db, rowsFor(leadIds), dripWorkflowId)).created;
    const at = new Date('2030-01-01T00:00:00.000Z');
    await addAssignmentEvent(db, { assignmentId: row!.id, event: 'started', at });
    await addAssignmentEvent(db, { assignmentId: row!.id, event: 'step_sent', stepIndex: 0, detail: 'msg 1' });

    const events = await listAssignmentEvents(db, row!.id);
    expect(events.map((e) => [e.event, e.stepIndex, e.detail])).toEqual([
      ['started', null, null],
      ['step_sent', 0, 'msg 1'],
    ]);
    expect(events[0]!.at).toEqual(at);
  });

  it('foreign keys are enforced: an event for a missing assignment is refused', async () => {
    await expect(addAssignmentEvent(db, { assignmentId: 999_999, event: 'started' })).rejects.toThrow();
  });
});
