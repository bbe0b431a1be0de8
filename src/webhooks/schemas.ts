/** What the webhook endpoints answer: what was taken from a delivery. */
import { z } from 'zod';

/** Meta and Infobip batch their events: how many of each kind the delivery held. */
export const WebhookBatchResponse = z.strictObject({
  received: z.literal(true),
  statuses: z.number().int(),
  inbound: z.number().int(),
  /** Meta: account-level errors (`value.errors`) recorded, when the delivery held any. */
  errors: z.number().int().optional(),
  /** Meta: template status or quality changes applied, when the delivery held any. */
  templates: z.number().int().optional(),
});

/** Interakt posts one event a delivery. */
export const InteraktWebhookResponse = z.union([
  z.strictObject({ received: z.literal(true), outcome: z.enum(['queued', 'duplicate']) }),
  z.strictObject({ received: z.literal(true), outcome: z.string(), leadId: z.number().int().nullable().optional() }),
  z.strictObject({ received: z.literal(true), ignored: z.string() }),
]);

/** The signed raw body of a provider's webhook, as the document shows it. */
export const rawJsonBody = (description: string) => ({ contentType: 'application/json', description });
