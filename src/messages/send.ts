import { ApplicationFailure } from '@temporalio/activity';
import { sendIdempotencyKey } from '../shared';
import type { DripStepSnapshot } from '../drips/contract';
import type { StepOutcome } from './contract';
import type { Db } from '../db/client';
import type { ReferenceType } from '../db/schema/values';
import {
  beginSendAttempt,
  claimOutgoingMessage,
  claimMarketingSlot,
  getLead,
  getMessageById,
  getSequence,
  releaseMarketingSlot,
  markMessageAccepted,
  markMessageFailed,
  releaseSendAttempt,
  touchLeadLastContact,
  type MessageLogRow,
} from '../db/queries';
import { isProviderError, type ProviderError, type ProviderErrorKind } from '../providers/errors';
import { callingCodeOf } from '../providers/phone';
import type { MessagingProvider, TemplateSend } from '../providers/types';
import { checkTemplateSend } from '../templates/check';
import { MissingVariableError, resolveTemplateValues } from './variables';
import type { SendCounter } from '../metrics';
import { capFreeAt } from '../delivery/contract';
import { readDeliverySettings } from '../delivery/settings';
import { senderKeyOf, type SendLimit, type SendSlot } from './send-limit';

export interface SendDeps {
  db: Db;
  provider: MessagingProvider;
  /**
   * The number this worker's sends go from: set on the worker of one sender's queue (see
   * senderSendQueue), absent on the default sender's.
   */
  sender?: string;
  /**
   * How long a send whose outcome is unknown (the process died or the provider timed out after
   * the request left) waits for the provider's webhook to say it was accepted before we conclude
   * it was not and send again. The webhook carries our idempotency key as callbackData.
   */
  reconcileWindowMs: number;
  /** How long to wait before retrying when the provider rejects our credentials. */
  configRetryDelayMs: number;
  now?: () => Date;
  /** Counts every call by provider and outcome (`dripline_sends_total`); see `SendOutcome`. */
  sends?: SendCounter;
  /**
   * The provider limit's ledger (src/messages/send-limit.ts): every provider call first takes a
   * slot of its sender's minute. Workers always have one; without it only the send queue's pacing
   * by the Temporal server holds the limit.
   */
  sendLimit?: SendLimit;
}

/**
 * What one call of `sendTemplateOnce` came to: `sent` (the provider accepted it), `rejected`
 * (permanently refused), `retryable`, `ambiguous` or `config` (the provider error's kind), `error`
 * (no provider answer: a local failure), `refused` (recorded as failed without calling the
 * provider), `duplicate` (an earlier attempt had settled it: nothing sent), `reconciling` (an
 * earlier attempt may have been accepted: waiting for its webhook), `limited` (the sender's minute
 * stayed full: nothing sent, retried when a slot frees).
 */
export type SendOutcome =
  | 'sent'
  | 'rejected'
  | 'retryable'
  | 'ambiguous'
  | 'config'
  | 'error'
  | 'refused'
  | 'duplicate'
  | 'reconciling'
  | 'limited';

export interface SendOnceRequest {
  idempotencyKey: string;
  leadId: number;
  phone: string;
  message: Omit<TemplateSend, 'to' | 'callbackData'>;
  referenceType: ReferenceType;
  referenceId: string;
  workflowId: string;
  stepIndex: number | null;
  /** The campaign a campaign send belongs to (WhatsAppMessages.CampaignId). */
  campaignId?: string;
}

export interface SendOnceResult {
  messageId: number;
  providerMessageId: string;
}

/** A reason, known before the provider is called, that this message must never be sent. */
export interface SendRefusal {
  code: string;
  message: string;
}

export interface SendOnceOptions {
  /** Recorded as the permanent failure of the key instead of calling the provider. */
  refusal?: SendRefusal;
}

/** Failure types the workflows' retry policies refer to. */
export const PERMANENT_SEND_ERROR = 'PermanentSendError';
export const SEND_OUTCOME_UNKNOWN = 'SendOutcomeUnknown';
export const SEND_LIMIT_REACHED = 'SendLimitReached';

/** The message-log error code of a send refused because its template may not be used (see templates/rules.ts). */
export const TEMPLATE_NOT_USABLE = 'template_not_usable';

/**
 * Sends one template message at most once per idempotency key, however often it is retried.
 * The message log row is written before the provider call (`sending`) and after it (`sent` or
 * `failed`), so a retry can tell "never sent", "sent" and "maybe sent" apart:
 * - sent (or further along): return the recorded result, do not call the provider again;
 * - failed permanently: fail again with the recorded reason;
 * - sending (a previous attempt died mid-call): wait for the reconcile window, during which the
 *   provider's webhook may confirm it; only then send again.
 * A `refusal` takes the place of the provider call: the row is marked failed with its code, once,
 * and every retry then fails the same way. A row already sent stays sent.
 */
export async function sendTemplateOnce(
  deps: SendDeps,
  request: SendOnceRequest,
  options: SendOnceOptions = {},
): Promise<SendOnceResult> {
  const now = deps.now ?? (() => new Date());
  const { db, provider } = deps;
  const count = (outcome: SendOutcome) => deps.sends?.inc({ provider: provider.name, outcome });
  const row = await claimOutgoingMessage(db, {
    idempotencyKey: request.idempotencyKey,
    leadId: request.leadId,
    phone: request.phone,
    countryCode: callingCodeOf(request.phone),
    provider: provider.name,
    sender: deps.sender ?? provider.defaultSender ?? null,
    templateName: request.message.templateName,
    templateLanguage: request.message.languageCode,
    messageContent: {
      headerValues: request.message.headerValues,
      bodyValues: request.message.bodyValues,
      buttonValues: request.message.buttonValues,
      fileName: request.message.fileName,
    },
    referenceType: request.referenceType,
    referenceId: request.referenceId,
    workflowId: request.workflowId,
    stepIndex: request.stepIndex,
    callbackData: request.idempotencyKey,
    campaignId: request.campaignId ?? null,
  });

  if (isSettled(row)) {
    count('duplicate');
    return settledResult(row)!;
  }
  if (row.status === 'sending' && row.attemptStartedAt) {
    const waitedMs = now().getTime() - row.attemptStartedAt.getTime();
    if (waitedMs < deps.reconcileWindowMs) {
      count('reconciling');
      throw ApplicationFailure.create({
        type: SEND_OUTCOME_UNKNOWN,
        message: 'a previous attempt may have been accepted; waiting for the provider to confirm before resending',
        nextRetryDelay: Math.max(1_000, Math.min(deps.reconcileWindowMs - waitedMs, 30_000)),
      });
    }
  }

  if (options.refusal) {
    // Unless a webhook confirmed an earlier attempt meanwhile, the row is now failed: report it.
    count('refused');
    await markMessageFailed(db, {
      id: row.id,
      errorCode: options.refusal.code,
      errorMessage: options.refusal.message,
      at: now(),
    });
    return reportCurrent(db, row.id);
  }
  if (!(await beginSendAttempt(db, { id: row.id, now: now() }))) {
    // Someone else moved the row on (a webhook confirmed it, or it failed): report that.
    count('duplicate');
    return reportCurrent(db, row.id);
  }
  // The last step before the call, so that nothing but the call itself lies between the slot's
  // time and the provider's.
  const limit = deps.sendLimit;
  let slot: SendSlot | undefined;
  try {
    slot = limit && (await limit.take(senderKeyOf(provider.name, deps.sender ?? provider.defaultSender)));
  } catch (error) {
    // The ledger could not be read (the database failed): nothing was sent, so the next attempt
    // need not wait for a webhook.
    count('error');
    await releaseSendAttempt(db, { id: row.id }).catch(() => undefined);
    throw error;
  }
  if (limit && slot && !slot.taken) {
    count('limited');
    await releaseSendAttempt(db, { id: row.id });
    throw ApplicationFailure.create({
      type: SEND_LIMIT_REACHED,
      message: `the provider limit of ${limit.sendsPerSecond}/s had no free slot in time; sending when one frees`,
      nextRetryDelay: slot.retryInMs,
    });
  }

  let providerMessageId: string;
  try {
    const accepted = await provider.sendTemplate({
      ...request.message,
      to: request.phone,
      callbackData: request.idempotencyKey,
      ...(deps.sender && { sender: deps.sender }),
    });
    providerMessageId = accepted.providerMessageId;
  } catch (error) {
    count(isProviderError(error) ? OUTCOME_OF_ERROR[error.kind] : 'error');
    throw await failureFor(deps, row.id, error);
  } finally {
    // The provider has the request by now, if it ever will: its slot frees a window from here.
    if (slot?.taken) await slot.callEnded();
  }
  count('sent');
  const acceptedAt = now();
  await markMessageAccepted(db, { id: row.id, providerMessageId, at: acceptedAt });
  await touchLeadLastContact(db, request.leadId, acceptedAt);
  return { messageId: row.id, providerMessageId };
}

/**
 * Sends a template message after checking its values against the template in Message Master
 * (approved, not archived or removed upstream, the right number of body, header and button values).
 * A message that fails the check is recorded as a permanent `template_not_usable` failure of its
 * key and never reaches the provider. Every flow that sends a named template goes through here.
 */
export async function sendTemplateMessage(deps: SendDeps, request: SendOnceRequest): Promise<SendOnceResult> {
  const check = await checkTemplateSend(deps.db, request.message);
  if (!check.ok)
    return sendTemplateOnce(deps, request, { refusal: { code: TEMPLATE_NOT_USABLE, message: check.reason } });
  return sendTemplateOnce(deps, { ...request, message: check.message });
}

/** The recorded outcome of a row this attempt did not move itself. */
async function reportCurrent(db: Db, messageId: number): Promise<SendOnceResult> {
  const current = await getMessageById(db, messageId);
  const result = current && settledResult(current);
  if (result) return result;
  throw ApplicationFailure.create({ type: SEND_OUTCOME_UNKNOWN, message: 'send attempt could not be claimed' });
}

const OUTCOME_OF_ERROR = {
  permanent: 'rejected',
  retryable: 'retryable',
  ambiguous: 'ambiguous',
  config: 'config',
} as const satisfies Record<ProviderErrorKind, SendOutcome>;

/** Whether an earlier attempt settled this row for good (sent, or failed permanently). */
const isSettled = (row: MessageLogRow): boolean =>
  row.status === 'failed' ||
  ((row.status === 'sent' || row.status === 'delivered' || row.status === 'read') && Boolean(row.providerMessageId));

function settledResult(row: MessageLogRow): SendOnceResult | null {
  if (row.status === 'failed') {
    throw ApplicationFailure.create({
      type: PERMANENT_SEND_ERROR,
      message: row.errorMessage ?? 'send failed permanently',
      nonRetryable: true,
      details: [{ code: row.errorCode }],
    });
  }
  if ((row.status === 'sent' || row.status === 'delivered' || row.status === 'read') && row.providerMessageId) {
    return { messageId: row.id, providerMessageId: row.providerMessageId };
  }
  return null;
}

/** Records what the provider's error means for this row and returns the failure to throw. */
async function failureFor(deps: SendDeps, messageId: number, error: unknown): Promise<Error> {
  const now = deps.now ?? (() => new Date());
  if (!isProviderError(error)) {
    // Not a provider answer (a bug or a local failure): we cannot know whether the request left.
    return error instanceof Error ? error : new Error(String(error));
  }
  switch (error.kind) {
    case 'permanent':
      await markMessageFailed(deps.db, {
        id: messageId,
        errorCode: error.code,
        errorMessage: error.message,
        at: now(),
      });
      return ApplicationFailure.create({
        type: PERMANENT_SEND_ERROR,
        message: error.message,
        nonRetryable: true,
        details: [{ code: error.code }],
      });
    case 'ambiguous':
      // Leave the row in `sending`: the next attempt waits for the webhook before resending.
      return ApplicationFailure.create({
        type: SEND_OUTCOME_UNKNOWN,
        message: error.message,
        nextRetryDelay: deps.reconcileWindowMs,
      });
    case 'config':
      await releaseSendAttempt(deps.db, { id: messageId });
      return ApplicationFailure.create({
        type: 'ProviderConfigError',
        message: error.message,
        nextRetryDelay: deps.configRetryDelayMs,
      });
    case 'retryable':
      await releaseSendAttempt(deps.db, { id: messageId });
      if (error.details.marketingLimit) return marketingLimitFailure(deps, error);
      return ApplicationFailure.create({
        type: 'ProviderUnavailable',
        message: error.message,
        nextRetryDelay: error.details.retryAfterMs,
      });
  }
}

/**
 * A send the provider held back for the user's marketing limit (Meta 131049), its row back to
 * pending: retried after the account's `marketingLimitRetryMinutes` (read now, so a change applies
 * to the next such answer), or, when that is off, failed at once without a retry. The failure's
 * type is then the provider's code (`meta_131049`), which the drip step's error and the campaign
 * recipient's error code carry; the same key is sent again by `POST /assignments/:id/retry` or the
 * campaign retry.
 */
async function marketingLimitFailure(deps: SendDeps, error: ProviderError): Promise<ApplicationFailure> {
  const { marketingLimitRetryMinutes: minutes } = await readDeliverySettings(deps.db);
  if (minutes === null) {
    return ApplicationFailure.create({
      type: error.code,
      message: `${error.message} (not retried automatically: marketingLimitRetryMinutes is off)`,
      nonRetryable: true,
      details: [{ code: error.code }],
    });
  }
  return ApplicationFailure.create({
    type: 'ProviderUnavailable',
    message: error.message,
    nextRetryDelay: minutes * 60_000,
    details: [{ code: error.code }],
  });
}

export interface SendDripStepInput {
  assignmentId: number;
  workflowId: string;
  leadId: number;
  stepIndex: number;
  step: DripStepSnapshot;
  /**
   * Set by runs on the send-rules path: the sequence (for its exit statuses), whether the step
   * takes a frequency-cap slot, and the workflow's time of the send (when the slot is taken).
   */
  rules?: { sequenceId: number; capped: boolean; at: string };
}

export function createSendActivities(deps: SendDeps) {
  async function sendClaimedDripStep(
    input: SendDripStepInput,
    lead: NonNullable<Awaited<ReturnType<typeof getLead>>>,
    idempotencyKey: string,
  ): Promise<StepOutcome> {
    const request: SendOnceRequest = {
      idempotencyKey,
      leadId: lead.id,
      phone: lead.phone,
      message: { templateName: input.step.templateName, languageCode: input.step.templateLanguage },
      referenceType: 'drip',
      referenceId: String(input.assignmentId),
      workflowId: input.workflowId,
      stepIndex: input.stepIndex,
    };
    let values: ReturnType<typeof resolveTemplateValues>;
    try {
      values = resolveTemplateValues(lead, input.step.variables);
    } catch (error) {
      if (!(error instanceof MissingVariableError)) throw error;
      // The lead lacks a field the template needs: a permanent failure, on record in the message
      // log like any refusal (unless an earlier attempt already sent this step).
      const earlier = await sendTemplateOnce(deps, request, {
        refusal: { code: error.code, message: error.message },
      });
      return { kind: 'sent', ...earlier };
    }
    const result = await sendTemplateMessage(deps, { ...request, message: { ...request.message, ...values } });
    return { kind: 'sent', ...result };
  }

  return {
    /**
     * Sends one drip step to its lead, unless the lead has opted out, said "not interested" to a
     * CTA (suppressed from marketing), or no longer exists.
     */
    async sendDripStep(input: SendDripStepInput): Promise<StepOutcome> {
      const lead = await getLead(deps.db, input.leadId);
      if (!lead) return { kind: 'skipped', reason: 'lead_not_found' };
      if (lead.optedOut) return { kind: 'skipped', reason: 'opted_out' };
      if (lead.marketingSuppressedAt) return { kind: 'skipped', reason: 'suppressed' };
      const idempotencyKey = sendIdempotencyKey(input.workflowId, input.stepIndex);
      if (input.rules) {
        // The lead reached an exit status since the last step: the sequence ends before sending.
        const sequence = await getSequence(deps.db, input.rules.sequenceId);
        const exits = sequence?.sendRules?.exitStatuses ?? [];
        if (exits.includes(lead.status) || exits.includes(lead.stage))
          return { kind: 'skipped', reason: 'exit_status' };
        if (input.rules.capped) {
          const { frequencyCap: cap } = await readDeliverySettings(deps.db);
          const at = new Date(input.rules.at);
          const claim =
            cap && (await claimMarketingSlot(deps.db, { leadId: lead.id, claimKey: idempotencyKey, at, cap }));
          if (cap && claim && !claim.claimed) {
            const freeAt = capFreeAt(
              claim.claimedAt.map((d) => d.getTime()),
              cap,
              at.getTime(),
            );
            return { kind: 'capped', freeAt: new Date(freeAt).toISOString() };
          }
        }
      }
      try {
        return await sendClaimedDripStep(input, lead, idempotencyKey);
      } catch (error) {
        // A step refused for good reached no one: its slot of the cap goes back.
        if (input.rules?.capped && error instanceof ApplicationFailure && error.type === PERMANENT_SEND_ERROR)
          await releaseMarketingSlot(deps.db, { leadId: lead.id, claimKey: idempotencyKey });
        throw error;
      }
    },
  };
}

export type SendActivities = ReturnType<typeof createSendActivities>;
