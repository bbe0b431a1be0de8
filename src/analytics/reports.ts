/**
 * The analytics reports as the API answers them, built from the query functions of
 * src/db/queries/analytics.ts: the routes return them, and bench/analytics.ts times exactly them.
 */
import type { Db } from '../db/client';
import {
  getContactGrowth,
  getDripOutcomes,
  getPeriodSendOutcomes,
  getResponseTimes,
  getRunningCounts,
  getSendFailures,
  getSendOutcomes,
  getSequence,
  MAX_STEPS,
  outcomeRate,
  type ReferenceType,
  type SendOutcomeCounts,
  type SendSet,
} from '../db/queries';

const HOUR_SECONDS = 3_600;

/** Counts and their rates, each rate a share of the sends the provider accepted. */
function withRates(counts: Omit<SendOutcomeCounts, 'stepIndex'>) {
  const { total, sent, delivered, read, replied, failed, pending } = counts;
  return {
    total,
    sent,
    delivered,
    read,
    replied,
    failed,
    pending,
    deliveryRate: outcomeRate(delivered, sent),
    readRate: outcomeRate(read, sent),
    replyRate: outcomeRate(replied, sent),
  };
}

const NO_SENDS: Omit<SendOutcomeCounts, 'stepIndex'> = {
  total: 0,
  sent: 0,
  delivered: 0,
  read: 0,
  replied: 0,
  failed: 0,
  pending: 0,
};

/**
 * A drip sequence's funnel: per step, the outcomes of its sends (`reached` is every send attempted
 * at that step) with failures by code, and its assignments by outcome; undefined when the
 * sequence does not exist.
 */
export async function dripFunnel(db: Db, params: { sequenceId: number; replyWindowHours: number }) {
  const sequence = await getSequence(db, params.sequenceId);
  if (!sequence) return undefined;
  const set: SendSet = { kind: 'dripSequence', sequenceId: sequence.id };
  const outcomes = await getDripOutcomes(db, { sequenceId: sequence.id });
  // Every step of the sequence as it is now, and any step an older version had beyond it.
  const stepCount = Math.min(MAX_STEPS, Math.max(1, sequence.steps.length, ...outcomes.map((o) => o.maxSteps)));
  const [counts, failures] = await Promise.all([
    getSendOutcomes(db, { set, replyWindowSeconds: params.replyWindowHours * HOUR_SECONDS, steps: stepCount }),
    getSendFailures(db, { set, byStep: true }),
  ]);
  const steps = counts.map(({ stepIndex: _step, ...found }, stepIndex) => ({
    stepIndex,
    templateName: sequence.steps[stepIndex]?.templateName ?? null,
    reached: found.total,
    ...withRates(found),
    failures: failures
      .filter((f) => f.stepIndex === stepIndex)
      .map(({ errorCode, errorMessage, count }) => ({ errorCode, errorMessage, count })),
  }));
  const byStatus = (status: string) => outcomes.filter((o) => o.status === status).reduce((sum, o) => sum + o.count, 0);
  return {
    sequenceId: sequence.id,
    sequenceName: sequence.name,
    replyWindowHours: params.replyWindowHours,
    steps,
    outcomes: {
      assignments: outcomes.reduce((sum, o) => sum + o.count, 0),
      pending: byStatus('pending'),
      active: byStatus('active'),
      paused: byStatus('paused'),
      completed: byStatus('completed'),
      cancelled: byStatus('cancelled'),
      failed: byStatus('failed'),
      cancelledByReason: outcomes
        .filter((o) => o.status === 'cancelled')
        .map((o) => ({ reason: o.stopReason, count: o.count })),
    },
  };
}

/** The KPIs of [from, to); the sends' outcomes add up whole days of the rollup (analytics-days.ts). */
export async function kpis(db: Db, params: { from: Date; to: Date; replyWindowHours: number }) {
  const period = { from: params.from, to: params.to };
  const [contacts, messages, responseTime, running] = await Promise.all([
    getContactGrowth(db, period),
    getPeriodSendOutcomes(db, { ...period, replyWindowSeconds: params.replyWindowHours * HOUR_SECONDS }),
    getResponseTimes(db, period),
    getRunningCounts(db),
  ]);
  return {
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    replyWindowHours: params.replyWindowHours,
    contacts: {
      total: contacts.total,
      totalAtStart: contacts.totalAtStart,
      newInPeriod: contacts.total - contacts.totalAtStart,
      months: contacts.months.map((month) => ({
        month: month.from.toISOString().slice(0, 7),
        from: month.from.toISOString(),
        to: month.to.toISOString(),
        created: month.created,
        totalBefore: month.totalBefore,
        growthRate: outcomeRate(month.created, month.totalBefore),
      })),
    },
    messages: withRates(messages),
    responseTime,
    running,
  };
}

/** The outcomes of one reference's sends (a drip assignment, a CTA run, a welcome, a campaign). */
export async function referenceOutcomes(
  db: Db,
  params: { referenceType: ReferenceType; referenceId: string; replyWindowHours: number },
) {
  const set: SendSet = { kind: 'reference', referenceType: params.referenceType, referenceId: params.referenceId };
  const [[counts], failures] = await Promise.all([
    getSendOutcomes(db, { set, replyWindowSeconds: params.replyWindowHours * HOUR_SECONDS }),
    getSendFailures(db, { set }),
  ]);
  return {
    referenceType: params.referenceType,
    referenceId: params.referenceId,
    replyWindowHours: params.replyWindowHours,
    ...withRates(counts ?? NO_SENDS),
    failures: failures.map(({ errorCode, errorMessage, count }) => ({ errorCode, errorMessage, count })),
  };
}
