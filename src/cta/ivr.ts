/**
 * IVR intake: a call to one of our IVR numbers is logged against the caller's lead (created if
 * new), and later turned into the CTA flow of the number called (`cta-<leadId>-<flowId>`).
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { AppError, InvalidInputError, notFound } from '../errors';
import type { Db } from '../db/client';
import { isUniqueViolation } from '../db/errors';
import {
  createLead,
  findCtaFlowByIvrNumber,
  findIvrCallByCallId,
  findLeadByPhone,
  getCtaFlow,
  getIvrCall,
  listReceivedIvrCalls,
  logIvrCall,
  markIvrCallProcessed,
  markIvrCallSkipped,
  type CtaRun,
  type IvrCall,
  type Lead,
} from '../db/queries';
import { normalizePhone } from '../providers/phone';
import { startCtaFlow, type CtaStartDeps } from './start';
import { describeError } from '../logging/redact';

export interface IvrCallEvent {
  callId: string;
  callerNumber: string;
  calledNumber: string;
  calledAt: Date;
}

export interface RecordIvrCallDeps {
  db: Db;
  defaultCountry: CountryCode;
}

export interface RecordedIvrCall {
  /** True when this call id was already logged: `call` is the stored row and nothing was written. */
  duplicate: boolean;
  call: IvrCall;
}

/** Why a call started no flow although its number has none: the note on the skipped call. */
export const NO_FLOW_FOR_NUMBER = 'no_flow_for_number';

/**
 * An IVR line as E.164 when it reads as a possible number (landlines and toll-free included,
 * unlike a lead's phone, which must be a mobile); otherwise as given, trimmed, so a short code or
 * extension still matches a flow configured with the same text.
 */
export function normalizeIvrNumber(input: string, defaultCountry: CountryCode): string {
  const text = input.trim();
  const parsed = parsePhoneNumberFromString(text, defaultCountry);
  return parsed?.isPossible() ? parsed.number : text;
}

/**
 * Logs one call, idempotently per call id. The caller must be a number WhatsApp can reach: an
 * unparseable one is a InvalidInputError on `callerNumber` and nothing is written. The called
 * number is stored normalised (see normalizeIvrNumber), which is what flows are matched on.
 */
export async function recordIvrCall(deps: RecordIvrCallDeps, event: IvrCallEvent): Promise<RecordedIvrCall> {
  const caller = normalizePhone(event.callerNumber, deps.defaultCountry);
  if (!caller.ok) throw new InvalidInputError([{ location: 'body', path: 'callerNumber', message: caller.reason }]);

  // A repeat must not create a lead either, so the call id is checked before anything is written;
  // logIvrCall's unique index settles the race of two identical posts that both get past here.
  const existing = await findIvrCallByCallId(deps.db, event.callId);
  if (existing) return { duplicate: true, call: existing };

  const { lead, created } = await findOrCreateCallerLead(deps.db, caller.e164);
  return logIvrCall(deps.db, {
    callId: event.callId,
    callerNumber: event.callerNumber.trim(),
    callerPhone: caller.e164,
    calledNumber: normalizeIvrNumber(event.calledNumber, deps.defaultCountry),
    calledAt: event.calledAt,
    leadId: lead.id,
    leadCreated: created,
  });
}

async function findOrCreateCallerLead(db: Db, phone: string): Promise<{ lead: Lead; created: boolean }> {
  const found = await findLeadByPhone(db, phone);
  if (found) return { lead: found, created: false };
  try {
    return {
      lead: await createLead(db, { name: `IVR caller ${phone.slice(-4)}`, phone, source: 'ivr' }),
      created: true,
    };
  } catch (error) {
    // Two calls from a new number at once: UQ_Clients_Phone lets one create the lead.
    if (!isUniqueViolation(error)) throw error;
    const winner = await findLeadByPhone(db, phone);
    if (!winner) throw error;
    return { lead: winner, created: false };
  }
}

/**
 * - `processed`: the call started its flow run (`runId`), or a run it started earlier.
 * - `skipped`: it starts none, for `reason` (`no_flow_for_number`, `already_in_flow`, `opted_out`, ...).
 * - `failed`: starting threw (e.g. Temporal unreachable); the call stays `received` for the next pass.
 * - `in_progress`: another pass is starting this very call's run right now; it stays `received`
 *   and that pass settles it.
 */
export type IvrCallOutcome = 'processed' | 'skipped' | 'failed' | 'in_progress';

export interface IvrCallResult {
  callId: string;
  outcome: IvrCallOutcome;
  runId?: number;
  reason?: string;
}

export interface ProcessIvrCallsResult {
  processed: number;
  skipped: number;
  failed: number;
  inProgress: number;
  results: IvrCallResult[];
}

/**
 * Turns up to `limit` received calls, oldest first and one at a time, into CTA flows: `flowId`
 * when given, else the live flow whose IVR number is the number called.
 *
 * Two passes at once are safe without claiming calls first: both may pick the same call, but the
 * run claim (one run per lead and flow, UX_CtaFlowRuns_Flow_Lead) and the workflow id
 * `cta-<leadId>-<flowId>` let only one of them start anything, the other sees the run its own call
 * made and reports it, and a call moves out of `received` only once, so the first outcome stands.
 */
export async function processIvrCalls(
  deps: CtaStartDeps,
  params: { limit: number; flowId?: number },
): Promise<ProcessIvrCallsResult> {
  if (params.flowId !== undefined) {
    // Refused up front: a mistyped flow id must not mark every waiting call as skipped.
    const flow = await getCtaFlow(deps.db, params.flowId);
    if (!flow) throw notFound('CTA flow');
    if (flow.archivedAt) throw new AppError('conflict', 'flow_archived', `CTA flow ${flow.id} is archived`);
  }

  const flowIdByNumber = new Map<string, number | undefined>();
  const flowIdFor = async (call: IvrCall): Promise<number | undefined> => {
    if (params.flowId !== undefined) return params.flowId;
    if (!flowIdByNumber.has(call.calledNumber)) {
      flowIdByNumber.set(call.calledNumber, (await findCtaFlowByIvrNumber(deps.db, call.calledNumber))?.id);
    }
    return flowIdByNumber.get(call.calledNumber);
  };

  const results: IvrCallResult[] = [];
  for (const call of await listReceivedIvrCalls(deps.db, params.limit)) {
    results.push(await processIvrCall(deps, call, await flowIdFor(call)));
  }
  const tally = (outcome: IvrCallOutcome) => results.filter((result) => result.outcome === outcome).length;
  return {
    processed: tally('processed'),
    skipped: tally('skipped'),
    failed: tally('failed'),
    inProgress: tally('in_progress'),
    results,
  };
}

async function processIvrCall(deps: CtaStartDeps, call: IvrCall, flowId: number | undefined): Promise<IvrCallResult> {
  if (flowId === undefined) return skip(deps.db, call, NO_FLOW_FOR_NUMBER, null);

  let started: Awaited<ReturnType<typeof startCtaFlow>>;
  try {
    started = await startCtaFlow(deps, { flowId, leadId: call.leadId, trigger: 'ivr', ivrCallId: call.id });
  } catch (error) {
    return { callId: call.callId, outcome: 'failed', reason: describeError(error) };
  }

  if (started.kind === 'started') return processed(deps.db, call, started.run);
  const { run } = started;
  if (started.reason === 'already_in_flow' && run && run.ivrCallId === call.id) return ownRun(deps, call, run);
  return skip(deps.db, call, started.reason, run?.id ?? null);
}

/** The lead's run in this flow was claimed for this very call, by an earlier or a concurrent pass. */
async function ownRun(deps: CtaStartDeps, call: IvrCall, run: CtaRun): Promise<IvrCallResult> {
  if (run.status === 'failed') {
    return { callId: call.callId, outcome: 'failed', runId: run.id, reason: run.lastError ?? 'the flow run failed' };
  }
  if (run.status === 'pending' && !(await workflowExists(deps, run.workflowId))) {
    return { callId: call.callId, outcome: 'in_progress', runId: run.id };
  }
  return processed(deps.db, call, run);
}

async function workflowExists(deps: CtaStartDeps, workflowId: string): Promise<boolean> {
  try {
    await deps.temporal.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

async function processed(db: Db, call: IvrCall, run: CtaRun): Promise<IvrCallResult> {
  if (await markIvrCallProcessed(db, { id: call.id, flowRunId: run.id, at: new Date() })) {
    return { callId: call.callId, outcome: 'processed', runId: run.id };
  }
  return settledElsewhere(db, call);
}

async function skip(db: Db, call: IvrCall, reason: string, runId: number | null): Promise<IvrCallResult> {
  if (await markIvrCallSkipped(db, { id: call.id, note: reason, flowRunId: runId, at: new Date() })) {
    return { callId: call.callId, outcome: 'skipped', reason, ...(runId !== null && { runId }) };
  }
  return settledElsewhere(db, call);
}

/** Another pass moved the call first: report the outcome that stands. */
async function settledElsewhere(db: Db, call: IvrCall): Promise<IvrCallResult> {
  const stored = await getIvrCall(db, call.id);
  const outcome: IvrCallOutcome = stored?.status === 'skipped' ? 'skipped' : 'processed';
  return {
    callId: call.callId,
    outcome,
    ...(stored?.flowRunId != null && { runId: stored.flowRunId }),
    ...(stored?.note != null && { reason: stored.note }),
  };
}
