/**
 * The timeline preview: every step of a sequence with the time it will be sent to a lead (or to
 * anyone in a time zone), from the same planSends the workflow's waits follow: each step's delay
 * counted from the previous send, then the window, quiet days and the frequency cap.
 */
import type { Db } from '../db/client';
import { getLead, listMarketingClaims, type SequenceWithSteps } from '../db/queries';
import { localTime, planSends } from '../delivery/contract';
import { sendPlanFor } from '../delivery/rules';
import { readDeliverySettings } from '../delivery/settings';
import { leadTimeZone } from '../delivery/time-zone';
import { notFound } from '../errors';

export async function previewTimeline(
  db: Db,
  sequence: SequenceWithSteps,
  params: { leadId?: number | undefined; timeZone?: string | undefined; from: Date },
) {
  const settings = await readDeliverySettings(db);
  const lead = params.leadId === undefined ? undefined : await getLead(db, params.leadId);
  if (params.leadId !== undefined && !lead) throw notFound('lead');
  const subject = lead ?? { timeZone: params.timeZone ?? null, phone: '' };
  const plan = sendPlanFor(subject, sequence.sendRules, settings);
  const source = lead ? leadTimeZone(lead, settings.defaultTimeZone).source : params.timeZone ? 'query' : 'default';
  const claims = lead && plan.cap ? await listMarketingClaims(db, { leadId: lead.id, max: plan.cap.max }) : [];
  const planned = planSends({
    fromMs: params.from.getTime(),
    delaysSeconds: sequence.steps.map((step) => step.delaySeconds),
    rules: plan.rules,
    cap: plan.cap,
    claimedAtMs: claims.map((claim) => claim.getTime()),
    capped: plan.capped,
  });
  const windowOnly = planSends({
    fromMs: params.from.getTime(),
    delaysSeconds: sequence.steps.map((step) => step.delaySeconds),
    rules: plan.rules,
    cap: null,
    claimedAtMs: [],
    capped: false,
  });
  return {
    sequenceId: sequence.id,
    timeZone: plan.rules.timeZone,
    timeZoneSource: source,
    capped: plan.capped,
    steps: planned.map((step, index) => {
      const local = localTime(step.sendAt, plan.rules.timeZone);
      const deferredBy =
        step.sendAt === step.dueAt ? 'none' : windowOnly[index]?.sendAt === step.sendAt ? 'window' : 'cap';
      return {
        stepIndex: step.stepIndex,
        templateName: sequence.steps[index]!.templateName,
        dueAt: new Date(step.dueAt).toISOString(),
        sendAt: new Date(step.sendAt).toISOString(),
        localSendAt: `${local.date} ${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')} (${WEEKDAY_NAMES[local.weekday - 1]})`,
        deferredBy: deferredBy as 'none' | 'window' | 'cap',
      };
    }),
  };
}

const WEEKDAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
