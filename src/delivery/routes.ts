import type { ApiContext } from '../api/context';
import { ApiRouter } from '../api/route';
import { InvalidInputError, type FieldIssue } from '../errors';
import { DeliverySettingsResponse, UpdateDeliverySettingsBody } from './schemas';
import { readDeliverySettings, writeDeliverySettings } from './settings';
import { checkKeywordReplyTemplate } from '../keyword-replies/template';

/**
 * `/settings/delivery`: the account's default time zone, window, quiet days, frequency cap,
 * keywords and their confirmation templates, and the retry delay of a send held back by the
 * provider's per-user marketing limit.
 */
export function deliverySettingsRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Settings', checkResponses: deps.checkResponses, writeRole: 'admin' });

  routes.get(
    '/',
    {
      role: 'admin',
      summary: 'The delivery rules every marketing flow inherits',
      responses: { 200: DeliverySettingsResponse },
    },
    async (_input, res) => {
      res.json(await readDeliverySettings(deps.db));
    },
  );

  routes.put(
    '/',
    {
      summary: 'Change the delivery rules',
      description:
        'Fields given replace the stored ones. STOP and UNSUBSCRIBE always opt a lead out and START back in; the keyword lists add to them. A running drip reads the rules again before each step. `keywordReplies.optOut` / `optIn` name the template confirming a keyword (sent once per inbound message, the opt-out confirmation even though the lead is now opted out); null sends none, and one kind may be given alone. `marketingLimitRetryMinutes` is how long a send Meta held back with 131049 waits before it is tried again (null: it fails with code meta_131049, for POST /assignments/{id}/retry or the campaign retry).',
      body: UpdateDeliverySettingsBody,
      responses: { 200: DeliverySettingsResponse },
    },
    async ({ body }, res) => {
      // A confirmation template is checked now, as a sequence's steps are: it must be in Message
      // Master, approved, and need nothing but (at most) the lead's name.
      const issues: FieldIssue[] = [];
      for (const kind of ['optOut', 'optIn'] as const) {
        const template = body.keywordReplies?.[kind];
        if (!template) continue;
        for (const message of await checkKeywordReplyTemplate(deps.db, template))
          issues.push({ location: 'body', path: `keywordReplies.${kind}.templateName`, message });
      }
      if (issues.length > 0) throw new InvalidInputError(issues);
      res.json(await writeDeliverySettings(deps.db, body));
    },
  );

  return routes;
}
