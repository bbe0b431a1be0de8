import { createDripActivities, type DripActivityDeps } from './drip';
import { createSendActivities, type SendDeps } from './send';
import { createTemplateSyncActivities, type TemplateSyncActivityDeps } from './template-sync';
import { createWelcomeActivities } from './welcome';
export { createTemplateSyncActivities, type TemplateSyncActivities, type TemplateSyncActivityDeps } from './template-sync';

export type ActivityDeps = DripActivityDeps &
  SendDeps & {
    /** How template sync reaches Interakt; without it a sync fails with a configuration error. */
    getInteraktTemplateClient?: TemplateSyncActivityDeps['getInteraktTemplateClient'];
  };

/** Every activity the worker registers, built from its dependencies (no module-level state). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDripActivities(deps),
    ...createSendActivities(deps),
    ...createWelcomeActivities(deps),
    ...createTemplateSyncActivities({
      db: deps.db,
      getInteraktTemplateClient:
        deps.getInteraktTemplateClient ??
        (() => {
          throw new Error('template sync needs the Interakt provider; this worker has none configured');
        }),
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
