import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import {
  archiveSequence,
  createSequence,
  getSequence,
  listSequences,
  updateSequence,
  type StepInput,
} from '../../src/db/queries';
import { createTestDb } from '../support/db';

let db: Db;
beforeEach(async () => {
  db = await createTestDb();
});
afterEach(async () => {
  await db.close();
});

const step = (templateName: string, delaySeconds: number): StepInput => ({
  templateName,
  templateLanguage: 'en',
  delaySeconds,
  variables: { body: [{ field: 'firstName' }, { value: 'Team' }] },
});

describe('sequences', () => {
  it('createSequence stores the sequence at version 1 with its steps numbered from 0 in the given order', async () => {
    const created = await createSequence(db, { name: 'Onboarding', steps: [step('welcome', 0), step('day2', 86_400)] });

    expect(created).toMatchObject({
      name: 'Onboarding',
      description: null,
      stopOnReply: false,
      version: 1,
      archivedAt: null,
    });
    expect(created.steps.map((s) => [s.stepOrder, s.templateName, s.delaySeconds])).toEqual([
      [0, 'welcome', 0],
      [1, 'day2', 86_400],
    ]);
    expect(created.steps[0]!.variables).toEqual({ body: [{ field: 'firstName' }, { value: 'Team' }] });
    expect(await getSequence(db, created.id)).toEqual(created);
  });

  it('getSequence returns undefined for an unknown id', async () => {
    expect(await getSequence(db, 999)).toBeUndefined();
  });

  it('updateSequence bumps the version and replaces the steps when given, in one transaction', async () => {
    const created = await createSequence(db, { name: 'S', steps: [step('a', 0), step('b', 10)] });

    const renamed = await updateSequence(db, created.id, { name: 'S2', stopOnReply: true });
    expect(renamed).toMatchObject({ name: 'S2', stopOnReply: true, version: 2 });
    expect(renamed!.steps.map((s) => s.templateName)).toEqual(['a', 'b']);

    const restepped = await updateSequence(db, created.id, { steps: [step('c', 5)] });
    expect(restepped).toMatchObject({ name: 'S2', version: 3 });
    expect(restepped!.steps.map((s) => [s.stepOrder, s.templateName])).toEqual([[0, 'c']]);
  });

  it('updateSequence returns undefined for an unknown id instead of inserting orphan steps', async () => {
    expect(await updateSequence(db, 999, { name: 'x', steps: [step('a', 0)] })).toBeUndefined();
  });

  it('archiveSequence hides the sequence from the default list and keeps the first archive time', async () => {
    const keep = await createSequence(db, { name: 'keep', steps: [] });
    const gone = await createSequence(db, { name: 'gone', steps: [] });

    const archived = await archiveSequence(db, gone.id);
    const again = await archiveSequence(db, gone.id);
    expect(archived?.archivedAt).toBeInstanceOf(Date);
    expect(again?.archivedAt).toEqual(archived?.archivedAt);

    const active = await listSequences(db, { page: 1, pageSize: 10 });
    expect(active.items.map((s) => s.id)).toEqual([keep.id]);
    expect(active.total).toBe(1);
    const all = await listSequences(db, { page: 1, pageSize: 10, includeArchived: true });
    expect(all.items.map((s) => s.id)).toEqual([gone.id, keep.id]);
  });

  it('listSequences pages newest first', async () => {
    for (const name of ['s1', 's2', 's3']) await createSequence(db, { name, steps: [] });
    const page2 = await listSequences(db, { page: 2, pageSize: 2 });
    expect(page2).toMatchObject({ total: 3, page: 2, pageSize: 2 });
    expect(page2.items.map((s) => s.name)).toEqual(['s1']);
  });
});
