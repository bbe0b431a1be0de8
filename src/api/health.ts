import { z } from 'zod';
import { pingDb } from '../db/queries';
import type { ApiContext } from './context';
import { ApiRouter } from './route';
import { errorMessage } from '../logging/redact';

const CHECK_TIMEOUT_MS = 2_000;

async function check(probe: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS).unref(),
      ),
    ]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: errorMessage(error) };
  }
}

const Check = z.strictObject({ ok: z.boolean(), error: z.string().optional() });
const HealthResponse = z.strictObject({ status: z.enum(['ok', 'degraded']), database: Check, temporal: Check });

/** Unauthenticated: load balancers and `npm start` poll it. Reports both dependencies. */
export function healthRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Health', checkResponses: deps.checkResponses, public: true });
  routes.get(
    '/',
    {
      summary: 'Database and Temporal reachability',
      responses: { 200: HealthResponse, 503: { description: 'A dependency does not answer', schema: HealthResponse } },
    },
    async (_input, res) => {
      const [database, temporal] = await Promise.all([
        check(() => pingDb(deps.db)),
        check(() => deps.temporal.workflowService.getSystemInfo({})),
      ]);
      const ok = database.ok && temporal.ok;
      res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', database, temporal });
    },
  );
  return routes;
}
