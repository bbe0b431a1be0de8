import type { ApiContext } from '../api/context';
import { ApiRouter } from '../api/route';
import { DeliverySettingsResponse, UpdateDeliverySettingsBody } from './schemas';
import { readDeliverySettings, writeDeliverySettings } from './settings';

/** `/settings/delivery`: the account's default time zone, window, quiet days, frequency cap and keywords. */
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
        'Fields given replace the stored ones. STOP and UNSUBSCRIBE always opt a lead out and START back in; the keyword lists add to them. A running drip reads the rules again before each step.',
      body: UpdateDeliverySettingsBody,
      responses: { 200: DeliverySettingsResponse },
    },
    async ({ body }, res) => {
      res.json(await writeDeliverySettings(deps.db, body));
    },
  );

  return routes;
}
