import { createDripActivities, type DripActivityDeps } from './drip';
import { createSendActivities, type SendDeps } from './send';

export type ActivityDeps = DripActivityDeps & SendDeps;

/** Every activity the worker registers, built from its dependencies (no module-level state). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDripActivities(deps),
    ...createSendActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
