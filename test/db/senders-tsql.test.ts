/**
 * The T-SQL that writes a sequence's and a CTA flow's sender number (recording fake pool, see
 * fake-mssql.ts), and the SQL Server migration that adds the Sender columns.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitMssqlBatches } from '../../src/db/migrate';
import { createCtaFlow, updateSequence } from '../../src/db/queries';
import { createRecordingMssql } from './fake-mssql';

describe('T-SQL of sender numbers', () => {
  it('updateSequence sets [Sender] with the version bump, and clears it with null', async () => {
    const { db, queries } = createRecordingMssql((query) =>
      query.sql.startsWith('update') ? { rowsAffected: [1] } : { recordset: [] },
    );
    await updateSequence(db, 4, { sender: '100000000000002' }).catch(() => undefined);
    await updateSequence(db, 4, { sender: null }).catch(() => undefined);
    const updates = queries.filter((query) => query.sql.startsWith('update'));
    expect(updates.map((query) => query.sql)).toEqual([
      'update [DripSequence] set [Version] = [DripSequence].[Version] + 1, [UpdatedAt] = @par0, [Sender] = @par1 where [DripSequence].[Id] = @par2',
      'update [DripSequence] set [Version] = [DripSequence].[Version] + 1, [UpdatedAt] = @par0, [Sender] = @par1 where [DripSequence].[Id] = @par2',
    ]);
    expect(updates.map((query) => query.params[1])).toEqual(['100000000000002', null]);
  });

  it('createCtaFlow inserts the flow with its [Sender] and OUTPUT INSERTED', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [] }));
    await createCtaFlow(db, {
      name: 'Palm Grove',
      templateName: 'project_update_template',
      templateLanguage: 'en',
      projectName: 'Palm Grove Residences',
      bodyVariables: [],
      interestedButtonIndex: 0,
      notInterestedButtonIndex: 1,
      brochureTemplateName: 'project_brochure',
      brochureTemplateLanguage: 'en',
      brochureUrl: null,
      brochureFileName: null,
      reminderAfterSeconds: 60,
      closeAfterSeconds: 60,
      tokenTtlSeconds: 3600,
      followUpCallAfterSeconds: 60,
      ivrNumber: null,
      sender: '447860099300',
    }).catch(() => undefined);
    const [insert] = queries;
    expect(insert!.sql).toMatch(/^insert into \[CtaFlows\] \(.*\[Sender\]\) output INSERTED\.\[Id\]/);
    expect(insert!.params.at(-1)).toBe('447860099300');
  });

  it('the SQL Server migration adds a nullable nvarchar(32) Sender to the log, sequences and flows, one batch each', () => {
    const file = readFileSync(path.join(__dirname, '../../src/db/migrations/mssql/0012_senders.sql'), 'utf8');
    expect(splitMssqlBatches(file).map((batch) => batch.replace(/\s+/g, ' ').trim())).toEqual([
      expect.stringMatching(/ALTER TABLE \[WhatsAppMessages\] ADD \[Sender\] nvarchar\(32\) NULL;$/),
      'ALTER TABLE [DripSequence] ADD [Sender] nvarchar(32) NULL;',
      'ALTER TABLE [CtaFlows] ADD [Sender] nvarchar(32) NULL;',
    ]);
  });
});
