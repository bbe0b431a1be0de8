import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../db/client';
import { getLead, type Lead } from '../db/queries';
import { readField } from '../messages/variables';
import { isProviderError } from '../providers/errors';
import type { InteraktTrackClient } from '../providers/interakt-track';
import { readInteraktOptions, type InteraktOptions } from '../settings/provider-settings';
import { INTERAKT_TRACK_REFUSED, type InteraktTrackOutcome, type TrackTraitValue } from './contract';

export interface InteraktTrackActivityDeps {
  db: Db;
  /** Interakt's Track APIs with the current key; without it a call fails as a configuration problem (and is retried). */
  getInteraktTrackClient?: () => InteraktTrackClient;
}

/** A key that is missing or refused is retried this much later: an admin may be fixing it. */
const CONFIG_RETRY_MS = 5 * 60_000;

/**
 * The lead's mapped traits, by the admin's mapping only (Interakt trait → lead field); a field
 * that is empty is left out rather than sent as an empty string.
 */
export function mappedTraits(lead: Lead, mapping: InteraktOptions['trackedTraits']): Record<string, string> {
  const traits: Record<string, string> = {};
  for (const [trait, field] of Object.entries(mapping)) {
    const value = readField(lead, field);
    if (value !== '') traits[trait] = value;
  }
  return traits;
}

export function createInteraktTrackActivities(deps: InteraktTrackActivityDeps) {
  /** The lead and the client, or why nothing is to be sent: tracking switched off, or the lead gone. */
  async function prepare(
    leadId: number,
  ): Promise<{ lead: Lead; options: InteraktOptions; client: InteraktTrackClient } | InteraktTrackOutcome> {
    const options = await readInteraktOptions(deps.db);
    if (!options.enabled || !options.trackingEnabled) return 'disabled';
    const lead = await getLead(deps.db, leadId);
    if (!lead) return 'lead_not_found';
    if (!deps.getInteraktTrackClient)
      throw ApplicationFailure.create({
        type: 'ProviderConfigError',
        message: 'Interakt tracking needs the Interakt client; this worker has none configured',
        nextRetryDelay: CONFIG_RETRY_MS,
      });
    return { lead, options, client: deps.getInteraktTrackClient() };
  }

  return {
    /** Sends the lead's mapped traits as they are now (a later call overwrites them, so a retry is harmless). */
    async trackInteraktUser({ leadId }: { leadId: number }): Promise<InteraktTrackOutcome> {
      const ready = await prepare(leadId);
      if (typeof ready === 'string') return ready;
      const { lead, options, client } = ready;
      await call(() =>
        client.trackUser({ userId: String(lead.id), phone: lead.phone }, mappedTraits(lead, options.trackedTraits)),
      );
      return 'sent';
    },

    /** Adds one event to the lead's Interakt timeline. */
    async trackInteraktEvent(input: {
      leadId: number;
      event: string;
      traits: Record<string, TrackTraitValue>;
    }): Promise<InteraktTrackOutcome> {
      const ready = await prepare(input.leadId);
      if (typeof ready === 'string') return ready;
      const { lead, client } = ready;
      await call(() => client.trackEvent({ userId: String(lead.id), phone: lead.phone }, input.event, input.traits));
      return 'sent';
    },
  };
}

/** Provider errors decide the retry (see the workflow); anything else (the database) is retried as is. */
async function call(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!isProviderError(error)) throw error;
    switch (error.kind) {
      case 'permanent':
        throw ApplicationFailure.create({
          type: INTERAKT_TRACK_REFUSED,
          message: error.message,
          nonRetryable: true,
          details: [{ code: error.code }],
        });
      case 'config':
        throw ApplicationFailure.create({
          type: 'ProviderConfigError',
          message: error.message,
          nextRetryDelay: CONFIG_RETRY_MS,
        });
      case 'retryable':
      case 'ambiguous':
        // An ambiguous user call is safe to repeat; an ambiguous event may show twice on the
        // timeline (Interakt takes no idempotency key), the only duplicate this path can make.
        throw ApplicationFailure.create({
          type: 'ProviderUnavailable',
          message: error.message,
          nextRetryDelay: error.details.retryAfterMs,
        });
    }
  }
}

export type InteraktTrackActivities = ReturnType<typeof createInteraktTrackActivities>;
