import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { CTA_ACTION_LABELS } from './pages';
import { ctaButtonSuffix, signCtaToken, type CtaKeyring } from './tokens';
import {
  addLeadNote,
  advanceCtaRun,
  closeDecidedCtaRun,
  createLeadTask,
  getCtaFlow,
  getCtaRun,
  getLead,
  listActiveAssignmentsForLead,
  listOpenCtaRunsForLead,
  type CtaFlow,
  type CtaRun,
  type Lead,
} from '../db/queries';
import { stopDrips } from '../drips/stop';
import { CTA_ANSWER_REASON, dripsExitingOn } from '../drips/exits';
import { claimSendSlot } from '../delivery/rules';
import { FREQUENCY_CAPPED } from '../delivery/contract';
import { readDeliverySettings } from '../delivery/settings';
import { sendIdempotencyKey } from '../shared';
import { stopCtaSignal, type CtaAction, type CtaClick } from './contract';
import {
  sendTemplateMessage,
  sendTemplateOnce,
  type SendDeps,
  type SendOnceRequest,
  type SendOnceResult,
} from '../messages/send';
import { MissingVariableError, resolveVariable } from '../messages/variables';
import { createLogger, type Logger } from '../logging/logger';

export interface CtaActivityDeps extends SendDeps {
  /** The CTA link signing keys (MasterData); new links are signed with the current one. */
  getCtaKeyring: () => Promise<CtaKeyring>;
  /** Signals the lead's other workflows when the lead says "not interested". */
  temporal?: Client;
  /** Where failed signals to the lead's other workflows are reported; by default warnings as JSON on stdout. */
  log?: Logger;
}

export type CtaSendOutcome =
  | ({ kind: 'sent' } & SendOnceResult)
  | { kind: 'skipped'; reason: 'lead_not_found' | 'opted_out' | 'suppressed' }
  /** The lead already answered (the click's signal may have been lost): the workflow acts on it. */
  | { kind: 'skipped'; reason: 'decided'; decision: CtaClick };

export interface CtaSendInput {
  runId: number;
  workflowId: string;
  /** The interactive message, its one reminder, or the brochure after "interested". */
  kind: 'initial' | 'reminder' | 'brochure';
}

export function createCtaActivities(deps: CtaActivityDeps) {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? createLogger({ level: 'warn', name: 'worker' });

  return {
    /**
     * Sends one of the run's messages, at most once per run and kind (key `<workflowId>:<kind>`).
     * The interactive message and its reminder carry two signed links, one per answer; nothing is
     * sent to a lead who opted out or was suppressed meanwhile, and no reminder after an answer.
     */
    async sendCtaMessage(input: CtaSendInput): Promise<CtaSendOutcome> {
      const { run, flow } = await loadRun(input.runId);
      const lead = await getLead(deps.db, run.leadId);
      if (!lead) return { kind: 'skipped', reason: 'lead_not_found' };
      if (lead.optedOut) return { kind: 'skipped', reason: 'opted_out' };
      if (input.kind !== 'brochure') {
        // An answer first: a "not interested" also suppressed the lead, and its signal may have
        // been lost; the workflow must learn of the answer, not just stop.
        if (run.decision) return { kind: 'skipped', reason: 'decided', decision: storedDecision(run) };
        if (lead.marketingSuppressedAt) return { kind: 'skipped', reason: 'suppressed' };
      }

      const request: SendOnceRequest = {
        idempotencyKey: sendIdempotencyKey(input.workflowId, input.kind),
        leadId: lead.id,
        phone: lead.phone,
        message:
          input.kind === 'brochure'
            ? {
                templateName: flow.brochureTemplateName,
                languageCode: flow.brochureTemplateLanguage,
                ...(flow.brochureUrl && { headerValues: [flow.brochureUrl] }),
                ...(flow.brochureFileName && { fileName: flow.brochureFileName }),
              }
            : { templateName: flow.templateName, languageCode: flow.templateLanguage },
        referenceType: 'cta',
        referenceId: String(run.id),
        workflowId: input.workflowId,
        stepIndex: null,
      };
      let bodyValues: string[];
      try {
        bodyValues = flow.bodyVariables.map((source) => resolveVariable(lead, source));
      } catch (error) {
        if (!(error instanceof MissingVariableError)) throw error;
        // Recorded as the key's permanent failure (unless an earlier attempt already sent it).
        return {
          kind: 'sent',
          ...(await sendTemplateOnce(deps, request, { refusal: { code: error.code, message: error.message } })),
        };
      }
      if (input.kind === 'reminder') {
        // A reminder is marketing: it takes a slot of the lead's frequency cap. Capped, it is not
        // sent (failed without retry, so the run waits on with the first message's links).
        const { frequencyCap: cap } = await readDeliverySettings(deps.db);
        const claim = await claimSendSlot(deps.db, {
          leadId: lead.id,
          claimKey: request.idempotencyKey,
          at: now(),
          cap,
        });
        if (!claim.claimed)
          throw ApplicationFailure.create({
            type: FREQUENCY_CAPPED,
            message: `frequency cap reached; a slot frees at ${claim.freeAt.toISOString()}`,
            nonRetryable: true,
          });
      }
      const buttonValues = input.kind === 'brochure' ? undefined : await signedButtons(lead, flow);
      const result = await sendTemplateMessage(deps, {
        ...request,
        message: { ...request.message, bodyValues, ...(buttonValues && { buttonValues }) },
      });
      if (input.kind !== 'brochure') {
        await advanceCtaRun(deps.db, {
          runId: run.id,
          status: input.kind === 'initial' ? 'sent' : 'reminded',
          at: now(),
        });
      }
      return { kind: 'sent', ...result };
    },

    /**
     * Carries out the run's decision, idempotently (notes and tasks have dedupe keys, signals are
     * idempotent), then closes the run. The lead's status and stage were set by the click itself.
     * Interested: a timeline note and a follow-up call task. Not interested: every running drip and
     * every other open CTA flow of the lead stops, and a note says so.
     */
    async carryOutCtaDecision(input: {
      runId: number;
      action: CtaAction;
      clickedAt: string;
      brochureSent: boolean;
    }): Promise<void> {
      const { run, flow } = await loadRun(input.runId);
      const lead = await getLead(deps.db, run.leadId);
      const clickedAt = new Date(input.clickedAt);
      const key = (what: string) => `cta-run:${run.id}:${what}`;
      await addLeadNote(deps.db, {
        leadId: run.leadId,
        body: `[${stamp(clickedAt)}] Clicked '${CTA_ACTION_LABELS[input.action]}' via WhatsApp (${flow.name}, ${flow.projectName})`,
        source: 'cta',
        dedupeKey: key('clicked'),
        at: clickedAt,
      });

      if (input.action === 'interested') {
        if (input.brochureSent) {
          await addLeadNote(deps.db, {
            leadId: run.leadId,
            body: `[${stamp(now())}] Brochure sent automatically`,
            source: 'cta',
            dedupeKey: key('brochure'),
          });
        }
        await createLeadTask(deps.db, {
          leadId: run.leadId,
          kind: 'follow_up_call',
          title: `Call ${lead?.name ?? `lead ${run.leadId}`} about ${flow.projectName}`,
          dueAt: new Date(clickedAt.getTime() + flow.followUpCallAfterSeconds * 1000),
          dedupeKey: key('follow-up-call'),
        });
      } else {
        const stopped = await stopLeadFollowUps(run);
        await addLeadNote(deps.db, {
          leadId: run.leadId,
          body: `[${stamp(now())}] Follow-ups stopped: marketing suppressed, ${stopped.drips} drip(s) and ${stopped.flows} other CTA flow(s) stopped`,
          source: 'cta',
          dedupeKey: key('suppressed'),
        });
      }
      if (input.action === 'interested' && deps.temporal) {
        // Sequences that end on any CTA answer (a "not interested" stopped every drip above).
        const exiting = await dripsExitingOn(deps.db, run.leadId, { kind: 'cta_answer' });
        await stopDrips({ temporal: deps.temporal, log }, exiting, CTA_ANSWER_REASON);
      }
      await closeDecidedCtaRun(deps.db, { runId: run.id, at: now() });
    },

    /**
     * Closes a run without an answer: no response after the reminder, stopped by another flow, or
     * failed. If the lead did answer (the click's signal was lost), the run is left open and the
     * answer returned, for the workflow to carry out.
     */
    async closeCtaRun(input: {
      runId: number;
      status: 'no_response' | 'stopped' | 'failed';
      reason?: string;
    }): Promise<CtaClick | null> {
      const closed = await advanceCtaRun(deps.db, {
        runId: input.runId,
        status: input.status,
        at: now(),
        ...(input.reason && { lastError: input.reason }),
      });
      if (closed) return null;
      const run = await getCtaRun(deps.db, input.runId);
      return run?.decision ? storedDecision(run) : null;
    },
  };

  async function loadRun(runId: number): Promise<{ run: CtaRun; flow: CtaFlow }> {
    const run = await getCtaRun(deps.db, runId);
    const flow = run && (await getCtaFlow(deps.db, run.flowId));
    if (!run || !flow)
      throw ApplicationFailure.nonRetryable(`CTA run ${runId} or its flow does not exist`, 'CtaRunNotFound');
    return { run, flow };
  }

  async function signedButtons(lead: Lead, flow: CtaFlow): Promise<Record<string, string[]>> {
    const keyring = await deps.getCtaKeyring();
    const expiresAt = new Date(now().getTime() + flow.tokenTtlSeconds * 1000);
    const link = (action: CtaAction) =>
      ctaButtonSuffix(lead.id, signCtaToken(keyring, { leadId: lead.id, flowId: flow.id, action, expiresAt }), action);
    return {
      [String(flow.interestedButtonIndex)]: [link('interested')],
      [String(flow.notInterestedButtonIndex)]: [link('not_interested')],
    };
  }

  /** Cancels every running drip and every other open CTA run of the lead (reason `not_interested`). */
  async function stopLeadFollowUps(run: CtaRun): Promise<{ drips: number; flows: number }> {
    const temporal = deps.temporal;
    if (!temporal)
      throw ApplicationFailure.create({
        type: 'CtaConfigError',
        message: 'stopping follow-ups needs a Temporal client in the worker',
      });
    const drips = await listActiveAssignmentsForLead(deps.db, run.leadId);
    const stoppedDrips = await stopDrips({ temporal, log }, drips, 'not_interested');
    const others = (await listOpenCtaRunsForLead(deps.db, run.leadId)).filter((other) => other.id !== run.id);
    const results = await Promise.allSettled(
      others.map((other) =>
        temporal.workflow.getHandle(other.workflowId).signal(stopCtaSignal, { reason: 'not_interested' }),
      ),
    );
    let flows = 0;
    for (const [index, result] of results.entries()) {
      const other = others[index]!;
      if (result.status === 'fulfilled') flows += 1;
      else if (result.reason instanceof WorkflowNotFoundError) {
        // Its workflow is gone (never started, or ended without closing the row): close the row here.
        await advanceCtaRun(deps.db, { runId: other.id, status: 'stopped', at: now(), lastError: 'not_interested' });
        flows += 1;
      } else {
        // Temporal unreachable: fail the attempt, the retry signals again (signals are idempotent).
        throw result.reason;
      }
    }
    return { drips: stoppedDrips, flows };
  }
}

function storedDecision(run: CtaRun): CtaClick {
  return { action: run.decision!, clickedAt: (run.decidedAt ?? run.updatedAt).toISOString() };
}

/** `2026-11-22 11:30:45` in UTC, as the lead's timeline shows it. */
function stamp(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

export type CtaActivities = ReturnType<typeof createCtaActivities>;
