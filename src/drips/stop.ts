import type { Client } from '@temporalio/client';
import { cancelDripSignal } from './contract';
import type { Logger } from '../logging/logger';

export interface StopDripsDeps {
  temporal: Client;
  log: Logger;
}

/**
 * Signals each running drip to cancel with `reason` (`opted_out`, `replied`, ...): the workflow
 * ends before its next send and records the reason. The signal is idempotent. Never throws: a
 * drip that already ended, or a signal that failed, is logged and skipped. Returns how many
 * signals were delivered.
 */
export async function stopDrips(
  deps: StopDripsDeps,
  drips: readonly { workflowId: string | null; leadId: number }[],
  reason: string,
): Promise<number> {
  const targets = drips.filter((drip): drip is { workflowId: string; leadId: number } => drip.workflowId !== null);
  const results = await Promise.allSettled(
    targets.map((drip) => deps.temporal.workflow.getHandle(drip.workflowId).signal(cancelDripSignal, { reason })),
  );
  let delivered = 0;
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') delivered += 1;
    else {
      const { workflowId, leadId } = targets[index]!;
      deps.log.warn({ err: result.reason, workflowId, leadId, reason }, 'could not stop a drip');
    }
  });
  return delivered;
}
