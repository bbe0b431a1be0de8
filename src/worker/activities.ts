import { ProviderError } from '../providers/errors';
import { createCampaignActivities } from '../campaigns/activities';
import { createCtaActivities, type CtaActivityDeps } from '../cta/activities';
import { createDeliveryActivities } from '../delivery/activities';
import { createDripActivities, type DripActivityDeps } from '../drips/activities';
import { createInfobipSyncActivities, type InfobipSyncActivityDeps } from '../infobip-sync/activities';
import { createSendActivities, type SendDeps } from '../messages/send';
import {
  createTemplateSubmissionActivities,
  createTemplateSyncActivities,
  type TemplateSubmissionActivityDeps,
  type TemplateSyncActivityDeps,
} from '../templates/activities';
import { createWelcomeActivities } from '../welcome/activities';
import { createKeywordReplyActivities } from '../keyword-replies/activities';
import { createInteraktTrackActivities, type InteraktTrackActivityDeps } from '../interakt-track/activities';
export {
  createTemplateSubmissionActivities,
  createTemplateSyncActivities,
  type TemplateSyncActivities,
  type TemplateSyncActivityDeps,
} from '../templates/activities';
export {
  createInfobipSyncActivities,
  type InfobipSyncActivities,
  type InfobipSyncActivityDeps,
} from '../infobip-sync/activities';

export type ActivityDeps = DripActivityDeps &
  SendDeps & {
    /** How template sync reads the provider's template list; without it a sync fails with a configuration error. */
    getTemplateSource?: TemplateSyncActivityDeps['getTemplateSource'];
    /** Meta's template edge (META_WABA_ID), for submissions; without it a submission fails with a configuration error. */
    getMetaTemplateClient?: TemplateSubmissionActivityDeps['getMetaTemplateClient'];
    /** How the Infobip sync reads People and SMS logs; without it a sync fails with a configuration error. */
    getInfobipClient?: InfobipSyncActivityDeps['getInfobipClient'];
    /** The CTA link signing keys; without them a CTA message fails with a configuration error. */
    getCtaKeyring?: CtaActivityDeps['getCtaKeyring'];
    /** Lets the CTA activities stop a lead's other workflows ("not interested"). */
    temporal?: CtaActivityDeps['temporal'];
    log?: CtaActivityDeps['log'];
    /** Interakt's Track APIs, for mirroring leads and milestones (when tracking is on in settings). */
    getInteraktTrackClient?: InteraktTrackActivityDeps['getInteraktTrackClient'];
    /** Country assumed for synced phone numbers written without a country code (default IN). */
    defaultCountry?: InfobipSyncActivityDeps['defaultCountry'];
  };

/** Every activity the worker registers, built from its dependencies (no module-level state). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createDripActivities(deps),
    ...createDeliveryActivities(deps),
    ...createSendActivities(deps),
    ...createWelcomeActivities(deps),
    ...createKeywordReplyActivities(deps),
    ...createCampaignActivities(deps),
    ...createInteraktTrackActivities(deps),
    ...createCtaActivities({
      ...deps,
      getCtaKeyring:
        deps.getCtaKeyring ??
        (() => {
          throw new Error('CTA links need the signing keyring (DRIPLINE_SECRET_KEY); this worker has none configured');
        }),
    }),
    ...createTemplateSyncActivities({
      db: deps.db,
      provider: deps.provider.name,
      getTemplateSource:
        deps.getTemplateSource ??
        (() => {
          throw new ProviderError(
            'config',
            'template_sync_not_configured',
            `template sync needs the ${deps.provider.name} template list configured (for Meta, META_WABA_ID); this worker has none`,
          );
        }),
    }),
    ...createTemplateSubmissionActivities({
      db: deps.db,
      getMetaTemplateClient:
        deps.getMetaTemplateClient ??
        (() => {
          throw new ProviderError(
            'config',
            'template_submission_not_configured',
            'template submissions need Meta (MESSAGING_PROVIDER=meta) and META_WABA_ID; this worker has neither',
          );
        }),
    }),
    ...createInfobipSyncActivities({
      db: deps.db,
      defaultCountry: deps.defaultCountry ?? 'IN',
      getInfobipClient:
        deps.getInfobipClient ??
        (() => {
          throw new ProviderError(
            'config',
            'infobip_not_configured',
            'Infobip sync needs INFOBIP_API_KEY; this worker has none configured',
          );
        }),
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
