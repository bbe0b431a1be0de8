import type { Client } from '@temporalio/client';
import { cancelDripSignal } from './contract';
import { describeError } from '../logging/redact';

export interface StopDripsDeps {
  temporal: Client;
  log: (line: string) => void;
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
      const why = describeError(result.reason);
      deps.log(
        `[drips] could not stop ${targets[index]!.workflowId} of lead ${targets[index]!.leadId} (${reason}): ${why}`,
      );
    }
  });
  return delivered;
}
