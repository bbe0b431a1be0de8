import { z } from 'zod';
import { metricsResponse } from '../metrics';
import type { ApiContext } from './context';
import { ApiRouter } from './route';

/**
 * `GET /metrics`: the API process's Prometheus metrics. No API key: Prometheus scrapes it, and it
 * holds only counts and durations (README, "Logs and metrics"); `API_METRICS_ENABLED=false` removes it.
 */
export function metricsRouter(deps: Pick<ApiContext, 'metrics' | 'checkResponses'>): ApiRouter {
  const routes = new ApiRouter({ tag: 'Operations', checkResponses: deps.checkResponses, public: true });
  routes.get(
    '/',
    {
      summary: "This API process's metrics (Prometheus text format)",
      responses: { 200: { description: 'The metrics', contentType: 'text/plain', schema: z.string() } },
    },
    async (_input, res) => {
      const { contentType, body } = await metricsResponse(deps.metrics.registry);
      res.type(contentType).send(body);
    },
  );
  return routes;
}
