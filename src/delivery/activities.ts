import type { Db } from '../db/client';
import { getLead, getSequence } from '../db/queries';
import { ANY_TIME, type DripSendPlan } from './contract';
import { sendPlanFor } from './rules';
import { readDeliverySettings } from './settings';

export interface DeliveryActivityDeps {
  db: Db;
}

export function createDeliveryActivities(deps: DeliveryActivityDeps) {
  return {
    /**
     * The rules a drip's next step goes under, read now: the sequence's window and quiet days over
     * the account's, in the lead's zone, and the cap unless the sequence is transactional. A lead or
     * sequence that vanished gets no window: the send itself then finds the lead gone.
     */
    async resolveDripSendPlan(input: { leadId: number; sequenceId: number }): Promise<DripSendPlan> {
      const [lead, sequence, settings] = await Promise.all([
        getLead(deps.db, input.leadId),
        getSequence(deps.db, input.sequenceId),
        readDeliverySettings(deps.db),
      ]);
      if (!lead) return { rules: ANY_TIME, cap: null, capped: false };
      return sendPlanFor(lead, sequence?.sendRules ?? null, settings);
    },
  };
}

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;
