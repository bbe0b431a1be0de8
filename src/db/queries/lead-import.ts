/**
 * Leads written by phone in one transaction (the CSV import): a phone that is already a lead
 * updates it (custom fields merged), a new phone creates a lead, a new phone without a name is
 * handed back unwritten. `dryRun` counts the same and writes nothing.
 */
import { eq, inArray } from 'drizzle-orm';
import { withTransaction, type Db } from '../client';
import { chunk } from './common';
import type { CustomFields } from './leads';

export interface LeadUpsert {
  /** E.164. */
  phone: string;
  fields: Partial<
    Record<'name' | 'firstName' | 'lastName' | 'email' | 'status' | 'stage' | 'source' | 'timeZone', string>
  >;
  optedOut?: boolean | undefined;
  customFields: CustomFields;
}

export async function upsertLeadsByPhone<T extends LeadUpsert>(
  db: Db,
  leads: readonly T[],
  { dryRun }: { dryRun: boolean },
): Promise<{ created: number; updated: number; missingName: T[] }> {
  const run = async (tx: Db) => {
    const c = tx.schema.clients;
    let created = 0;
    let updated = 0;
    const missingName: T[] = [];
    const now = new Date();
    for (const part of chunk(leads, 500)) {
      const existing = await tx.orm
        .select({ id: c.id, phone: c.phone, customFields: c.customFields, optedOut: c.optedOut })
        .from(c)
        .where(
          inArray(
            c.phone,
            part.map((lead) => lead.phone),
          ),
        );
      const byPhone = new Map(existing.map((row) => [row.phone, row]));
      const inserts: (typeof c.$inferInsert)[] = [];
      for (const lead of part) {
        const current = byPhone.get(lead.phone);
        if (current) {
          updated += 1;
          if (dryRun) continue;
          let customFields: CustomFields = {};
          try {
            customFields = JSON.parse(current.customFields) as CustomFields;
          } catch {
            // A row written by hand in the CRM with invalid JSON: the import's fields replace it.
          }
          await tx.orm
            .update(c)
            .set({
              ...lead.fields,
              ...(lead.optedOut !== undefined && {
                optedOut: lead.optedOut,
                optedOutAt: lead.optedOut ? (current.optedOut ? undefined : now) : null,
              }),
              customFields: JSON.stringify({ ...customFields, ...lead.customFields }),
              updatedAt: now,
            })
            .where(eq(c.id, current.id));
        } else if (!lead.fields.name) {
          missingName.push(lead);
        } else {
          created += 1;
          inserts.push({
            name: lead.fields.name,
            phone: lead.phone,
            firstName: lead.fields.firstName ?? null,
            lastName: lead.fields.lastName ?? null,
            email: lead.fields.email ?? null,
            status: lead.fields.status,
            stage: lead.fields.stage,
            source: lead.fields.source ?? 'import',
            timeZone: lead.fields.timeZone ?? null,
            optedOut: lead.optedOut ?? false,
            optedOutAt: lead.optedOut ? now : null,
            customFields: JSON.stringify(lead.customFields),
            createdAt: now,
            updatedAt: now,
          });
        }
      }
      // Sixteen parameters a row: 100 rows stay under SQL Server's 2,100.
      if (!dryRun) for (const rows of chunk(inserts, 100)) await tx.orm.insert(c).values(rows);
    }
    return { created, updated, missingName };
  };
  return dryRun ? run(db) : withTransaction(db, run);
}
