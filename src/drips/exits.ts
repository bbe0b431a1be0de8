/**
 * Exit criteria: which of a lead's live drips end because of what just happened to the lead, read
 * from each sequence's send rules as they are now. The caller signals them (`stopDrips`); the send
 * activity checks the exit statuses again before every step, so a lost signal still ends the drip
 * before its next send.
 */
import type { Db } from '../db/client';
import { getSequence, listActiveAssignmentsForLead, type Assignment } from '../db/queries';

export const EXIT_STATUS_REASON = 'exit_status';
export const CTA_ANSWER_REASON = 'cta_answer';

export type ExitEvent = { kind: 'status'; status: string; stage: string } | { kind: 'cta_answer' };

export async function dripsExitingOn(db: Db, leadId: number, event: ExitEvent): Promise<Assignment[]> {
  const live = await listActiveAssignmentsForLead(db, leadId);
  const rules = new Map<number, Awaited<ReturnType<typeof getSequence>>>();
  for (const sequenceId of new Set(live.map((row) => row.sequenceId)))
    rules.set(sequenceId, await getSequence(db, sequenceId));
  return live.filter((assignment) => {
    const sendRules = rules.get(assignment.sequenceId)?.sendRules;
    if (!sendRules) return false;
    if (event.kind === 'cta_answer') return sendRules.exitOnCtaAnswer === true;
    const exits = sendRules.exitStatuses ?? [];
    return exits.includes(event.status) || exits.includes(event.stage);
  });
}
