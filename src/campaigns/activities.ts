import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/client';
import {
  addCampaignRecipients,
  getCampaign,
  getLead,
  getMessageByKey,
  getRecipient,
  listPendingRecipients,
  listSegmentLeadIds,
  getSegment,
  settleRecipient,
  updateCampaign,
} from '../db/queries';
import {
  PERMANENT_SEND_ERROR,
  sendTemplateMessage,
  sendTemplateOnce,
  type SendDeps,
  type SendOnceRequest,
} from '../messages/send';
import { MissingVariableError, resolveTemplateValues } from '../messages/variables';
import { FREQUENCY_CAPPED } from '../delivery/contract';
import { MILESTONE_EVENTS, type MilestoneSink } from '../interakt-track/contract';
import { claimSendSlot, mayMarket, releaseSendSlot, sendPlanFor } from '../delivery/rules';
import { readDeliverySettings } from '../delivery/settings';
import { campaignSendKey, type CampaignStatus, type CampaignTemplate, type RecipientOutcome } from './contract';

/** Lead ids read per statement while a campaign's audience is written as its recipients. */
const AUDIENCE_PAGE = 5_000;

export interface SendCampaignMessageInput {
  campaignId: number;
  recipientId: number;
  leadId: number;
  workflowId: string;
  template: CampaignTemplate;
}

export interface CampaignActivityDeps extends SendDeps {
  /** Where a recipient's send is reported (an Interakt event, when tracking is on); none: not reported. */
  milestones?: MilestoneSink;
}

export function createCampaignActivities(deps: CampaignActivityDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    /**
     * Writes the campaign's recipients once (its segment as it is now, or its list): opted-out and
     * suppressed leads are taken in too, so the report shows them skipped with their reason. A
     * retried call, or a retry run, finds them written and changes nothing. Marks it running.
     */
    async prepareCampaign({ campaignId }: { campaignId: number }): Promise<{ total: number }> {
      const campaign = await getCampaign(deps.db, campaignId);
      if (!campaign) throw ApplicationFailure.nonRetryable(`campaign ${campaignId} not found`, 'CampaignNotFound');
      let leadIds: number[];
      if (campaign.leadIds) {
        leadIds = [...new Set(campaign.leadIds)];
      } else {
        const segment = campaign.segmentId === null ? undefined : await getSegment(deps.db, campaign.segmentId);
        if (!segment)
          throw ApplicationFailure.nonRetryable(`campaign ${campaignId} has no audience`, 'CampaignNotFound');
        leadIds = [];
        for (let afterId = 0; ;) {
          const page = await listSegmentLeadIds(deps.db, segment.filter, {
            afterId,
            limit: AUDIENCE_PAGE,
            exclusions: false,
          });
          if (page.length === 0) break;
          leadIds.push(...page);
          afterId = page[page.length - 1]!;
        }
      }
      const total = await addCampaignRecipients(deps.db, campaignId, leadIds);
      await recordStatus(deps.db, campaignId, 'running', now());
      return { total };
    },

    /** The workflow's cursor page: pending recipients after `afterId`, in id order. */
    async nextCampaignRecipients(params: {
      campaignId: number;
      afterId: number;
      limit: number;
    }): Promise<{ id: number; leadId: number }[]> {
      return listPendingRecipients(deps.db, params);
    },

    async recordCampaignStatus(params: {
      campaignId: number;
      status: CampaignStatus;
      stopReason?: string;
      lastError?: string;
    }): Promise<void> {
      await recordStatus(deps.db, params.campaignId, params.status, now(), params);
    },

    /** A send that did not succeed after its attempts: failed, transient (a retry may send it under the same key). */
    async recordRecipientFailure(params: {
      campaignId: number;
      recipientId: number;
      code: string;
      message: string;
    }): Promise<void> {
      await settleRecipient(deps.db, {
        id: params.recipientId,
        status: 'failed',
        failureKind: 'transient',
        errorCode: params.code.slice(0, 100),
        reason: params.message.slice(0, 100),
        at: now(),
      });
    },

    /**
     * Sends the campaign's template to one recipient under `campaign-<id>:<leadId>`, unless the lead
     * is gone, opted out or suppressed from marketing (skipped, with that reason), and settles the
     * recipient row. A permanent refusal is settled as a permanent failure and not retried; other
     * failures are thrown for the activity's retries.
     */
    async sendCampaignMessage(input: SendCampaignMessageInput): Promise<RecipientOutcome> {
      const recipient = await getRecipient(deps.db, input.recipientId);
      if (recipient && recipient.status !== 'pending') return settledOutcome(recipient);
      const skip = async (reason: string): Promise<RecipientOutcome> => {
        await settleRecipient(deps.db, { id: input.recipientId, status: 'skipped', reason, at: now() });
        return { kind: 'skipped', reason };
      };
      const lead = await getLead(deps.db, input.leadId);
      const key = campaignSendKey(input.campaignId, input.leadId);
      // A send under this key already settled (an earlier run got this far): never twice.
      const earlier = await getMessageByKey(deps.db, key);
      // A campaign has no rules of its own: the account's window, quiet days and cap apply.
      let plan: ReturnType<typeof sendPlanFor> | null = null;
      if (!earlier || earlier.status === 'pending') {
        if (!lead) return skip('lead_not_found');
        // Read again here, at the send: a STOP that arrived since the campaign started skips it.
        if (lead.optedOut) return skip('opted_out');
        if (lead.marketingSuppressedAt) return skip('suppressed');
        const at = now();
        const verdict = await mayMarket(deps.db, { leadId: lead.id, flow: null, at });
        // Outside the window (or capped) the recipient is skipped with that reason, not deferred: a
        // campaign is one pass over its audience, timed by whoever schedules it. The cap is left to
        // the claim below, which keeps this send's own slot if an earlier attempt took it.
        if (!verdict.allowed && verdict.reason !== FREQUENCY_CAPPED) return skip(verdict.reason);
        plan = sendPlanFor(lead, null, await readDeliverySettings(deps.db));
        if (plan.capped) {
          const claim = await claimSendSlot(deps.db, { leadId: lead.id, claimKey: key, at, cap: plan.cap });
          if (!claim.claimed) return skip(FREQUENCY_CAPPED);
        }
      }
      if (!lead) return skip('lead_not_found');

      const request: SendOnceRequest = {
        idempotencyKey: key,
        leadId: lead.id,
        phone: lead.phone,
        message: { templateName: input.template.templateName, languageCode: input.template.templateLanguage },
        referenceType: 'campaign',
        referenceId: String(input.campaignId),
        campaignId: String(input.campaignId),
        workflowId: input.workflowId,
        stepIndex: null,
      };
      try {
        let result;
        try {
          const values = resolveTemplateValues(lead, input.template.variables);
          result = await sendTemplateMessage(deps, { ...request, message: { ...request.message, ...values } });
        } catch (error) {
          if (!(error instanceof MissingVariableError)) throw error;
          result = await sendTemplateOnce(deps, request, { refusal: { code: error.code, message: error.message } });
        }
        await settleRecipient(deps.db, {
          id: input.recipientId,
          status: 'sent',
          messageId: result.messageId,
          at: now(),
        });
        // Keyed by the send, so a retried activity reports it once.
        await deps.milestones?.({
          leadId: lead.id,
          event: MILESTONE_EVENTS.campaignSent,
          key: `${key}-sent`,
          traits: { campaignId: input.campaignId, templateName: input.template.templateName },
        });
        return { kind: 'sent', messageId: result.messageId };
      } catch (error) {
        if (!(error instanceof ApplicationFailure) || error.type !== PERMANENT_SEND_ERROR) throw error;
        // Refused for good, it reached no one: its slot of the cap goes back.
        if (plan?.capped) await releaseSendSlot(deps.db, { leadId: lead.id, claimKey: key });
        const message = await getMessageByKey(deps.db, key);
        const code = message?.errorCode ?? null;
        await settleRecipient(deps.db, {
          id: input.recipientId,
          status: 'failed',
          failureKind: 'permanent',
          errorCode: code,
          reason: (message?.errorMessage ?? error.message).slice(0, 100),
          messageId: message?.id ?? null,
          at: now(),
        });
        return { kind: 'failed', permanent: true, code };
      }
    },
  };
}

async function recordStatus(
  db: Db,
  campaignId: number,
  status: CampaignStatus,
  at: Date,
  detail: { stopReason?: string; lastError?: string } = {},
): Promise<void> {
  const campaign = await getCampaign(db, campaignId);
  if (!campaign) return;
  const finished = status === 'completed' || status === 'cancelled' || status === 'failed';
  await updateCampaign(db, campaignId, {
    status,
    ...(status === 'running' && campaign.startedAt === null && { startedAt: at }),
    finishedAt: finished ? at : null,
    ...(detail.stopReason !== undefined && { stopReason: detail.stopReason }),
    ...(detail.lastError !== undefined && { lastError: detail.lastError }),
  });
}

function settledOutcome(recipient: {
  status: string;
  reason: string | null;
  messageId: number | null;
  failureKind: string | null;
  errorCode: string | null;
}): RecipientOutcome {
  if (recipient.status === 'sent') return { kind: 'sent', messageId: recipient.messageId ?? 0 };
  if (recipient.status === 'skipped') return { kind: 'skipped', reason: recipient.reason ?? 'skipped' };
  return { kind: 'failed', permanent: recipient.failureKind === 'permanent', code: recipient.errorCode };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
