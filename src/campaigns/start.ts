/**
 * Starting a campaign's workflow: from a draft (now or at its scheduled time), or again for a retry
 * of its failed recipients under the same keys. The row is claimed first (a conditional status
 * change), so two requests never both start it.
 */
import type { Client } from '@temporalio/client';
import type { Db } from '../db/client';
import { getCampaign, requeueTransientFailures, updateCampaign, type Campaign } from '../db/queries';
import { conflict } from '../errors';
import { FLOW_KIND, type TemplateVariables } from '../shared';
import { startClaimedWorkflow } from '../workflow-client';
import { campaignWorkflowId, type CampaignWorkflowInput } from './contract';
import type { campaignWorkflow } from './workflow';

export interface CampaignRunOptions {
  pageSize: number;
  maxInFlight: number;
  sendMaxAttempts: number;
}

/**
 * 20 sends queued at once keep the send queue's rate reached (at 4.5/s they cover over 4 s of
 * sends while the workflow refills), and bound what a pause takes back. Ten attempts over about
 * ten minutes before a send is recorded as a transient failure, for a retry to pick up.
 */
export const DEFAULT_CAMPAIGN_RUN_OPTIONS: CampaignRunOptions = { pageSize: 100, maxInFlight: 20, sendMaxAttempts: 10 };

export interface CampaignStartDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  sendTaskQueue: string;
  campaigns: CampaignRunOptions;
}

async function startWorkflow(deps: CampaignStartDeps, campaign: Campaign): Promise<void> {
  const workflowId = campaignWorkflowId(campaign.id);
  const input: CampaignWorkflowInput = {
    campaignId: campaign.id,
    template: {
      templateName: campaign.templateName,
      templateLanguage: campaign.templateLanguage,
      variables: campaign.variables as TemplateVariables,
    },
    sendTaskQueue: deps.sendTaskQueue,
    scheduledAt: campaign.scheduledAt?.toISOString() ?? null,
    ...deps.campaigns,
  };
  const outcome = await startClaimedWorkflow<typeof campaignWorkflow>(
    deps.temporal,
    'campaignWorkflow',
    {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: [{ key: FLOW_KIND, value: 'campaign' }],
    },
    (reason) => updateCampaign(deps.db, campaign.id, { status: 'failed', lastError: reason.slice(0, 2000) }),
  );
  if (outcome.kind === 'failed') throw outcome.error;
}

/** draft → scheduled (a future `scheduledAt`) or running, and its workflow started. */
export async function startCampaign(deps: CampaignStartDeps, id: number, scheduledAt?: Date): Promise<Campaign> {
  const campaign = await getCampaign(deps.db, id);
  if (!campaign) throw conflict('campaign_not_found', 'campaign not found');
  const at = scheduledAt ?? campaign.scheduledAt;
  const status = at && at.getTime() > Date.now() ? 'scheduled' : 'running';
  const claimed = await updateCampaign(
    deps.db,
    id,
    { status, scheduledAt: at ?? null, workflowId: campaignWorkflowId(id) },
    ['draft'],
  );
  if (!claimed)
    throw conflict('campaign_not_draft', `only a draft campaign can be started; this one is ${campaign.status}`);
  await startWorkflow(deps, { ...campaign, status, scheduledAt: at ?? null });
  return (await getCampaign(deps.db, id))!;
}

/**
 * The failed recipients whose failure may pass (not a permanent refusal) are sent again under
 * their same keys: a finished campaign runs its workflow once more over them.
 */
export async function retryCampaign(deps: CampaignStartDeps, campaign: Campaign): Promise<{ requeued: number }> {
  const claimed = await updateCampaign(
    deps.db,
    campaign.id,
    { status: 'running', finishedAt: null, retryCount: campaign.retryCount + 1, scheduledAt: null },
    ['completed', 'cancelled'],
  );
  if (!claimed)
    throw conflict('campaign_not_finished', `only a finished campaign can be retried; this one is ${campaign.status}`);
  const requeued = await requeueTransientFailures(deps.db, campaign.id);
  if (requeued === 0) {
    await updateCampaign(deps.db, campaign.id, {
      status: campaign.status,
      finishedAt: campaign.finishedAt,
      retryCount: campaign.retryCount,
    });
    throw conflict('nothing_to_retry', 'no recipient failed for a reason a retry could change');
  }
  await startWorkflow(deps, { ...campaign, scheduledAt: null });
  return { requeued };
}
