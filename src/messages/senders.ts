/**
 * Which sender number a sequence or CTA flow sends from: one of the deployment's senders
 * (config.ts deploymentSenders), stored as null when it is the default, so the default's queue and
 * number follow the configuration.
 */
import { invalidField } from '../errors';

export interface DeploymentSenders {
  /** The number sends go from by default (Meta phone number id, Infobip sender); null for Interakt. */
  default: string | null;
  /** The other numbers a sequence or flow may name. */
  others: string[];
}

/** The sender to store for `given` (null: the default), or a 400 naming `field` for a number the deployment lacks. */
export function storedSender(
  senders: DeploymentSenders,
  given: string | null | undefined,
  field = 'sender',
): string | null {
  if (given === undefined || given === null) return null;
  const sender = given.trim().replace(/^\+/, '');
  if (sender === senders.default) return null;
  if (senders.others.includes(sender)) return sender;
  const known = [senders.default, ...senders.others].filter((value): value is string => value !== null);
  throw invalidField(
    field,
    known.length === 0
      ? 'this deployment sends from its provider account’s one number; it names no senders'
      : `is not one of this deployment's senders (${known.join(', ')})`,
  );
}
