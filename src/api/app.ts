import express, { type Express, type Router } from 'express';
import { analyticsRouter } from '../analytics/routes';
import { ctaRouter } from '../cta/routes';
import { ivrRouter } from '../cta/ivr-routes';
import { ctaSigningKeysRouter } from '../cta/signing-keys-routes';
import { ctaTemplateJsonRouter } from '../cta/template-json-routes';
import { trackRouter } from '../cta/track-routes';
import { assignmentsRouter } from '../drips/assignments-routes';
import { deliverySettingsRouter } from '../delivery/routes';
import { sequencesRouter } from '../drips/sequences-routes';
import { infobipSyncRouter } from '../infobip-sync/routes';
import { leadsRouter } from '../leads/routes';
import { campaignsRouter } from '../campaigns/routes';
import { customFieldsRouter, segmentsRouter } from '../segments/routes';
import { messagesRouter } from '../messages/routes';
import { settingsRouter } from '../settings/routes';
import { templateSubmissionRouter } from '../templates/submission-routes';
import { templateSyncRouter } from '../templates/sync-routes';
import { templatesRouter } from '../templates/routes';
import { infobipWebhooks } from '../webhooks/infobip-routes';
import { webhooksRouter } from '../webhooks/interakt-routes';
import { metaWebhooks } from '../webhooks/meta-ingest';
import { auditChanges, auditRouter } from './audit';
import { requireCaller } from './auth';
import { serveConsole } from './console-static';
import { createApiContext, type ApiOptions } from './context';
import { errorHandler, refuseProtoKeys, unknownRoute } from './errors';
import { healthRouter } from './health';
import { metricsRouter } from './metrics-route';
import { observeRequests } from './observability';
import { buildOpenApiDocument, docsRouter, methodNotAllowed, type MountedRoutes } from './openapi';
import { sessionRouter } from './session';

/** The version the OpenAPI document states: the package's. */
const API_VERSION = '0.1.0';

/** Builds the API without listening, so tests mount it directly. */
export function createApp(options: ApiOptions): Express {
  const context = createApiContext(options);
  const { open, admin } = mountedRoutes(context, options);
  const document = buildOpenApiDocument([...open, ...admin], { version: API_VERSION });

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(observeRequests(context.log, context.metrics));

  // The contract itself is public: clients and the console are generated from it.
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use('/docs', docsRouter());
  // The console's static files are public too (they hold no data; every call they make is authenticated).
  app.use(serveConsole(options.consoleDir));
  // A path asked with a method it does not take is a 405, before anything reads the request.
  app.use(methodNotAllowed([...open, ...admin]));
  mount(app, open);

  const adminRouter = express.Router();
  adminRouter.use(requireCaller(context.db));
  adminRouter.use(auditChanges(context.db, context.log));
  adminRouter.use(express.json({ limit: '2mb', reviver: refuseProtoKeys }));
  mount(adminRouter, admin);
  app.use(adminRouter);

  app.use(unknownRoute);
  app.use(errorHandler(context.log));
  return app;
}

/**
 * The OpenAPI document of the app these options build, without serving anything: the console's
 * typed client is generated from it (scripts/console.ts).
 */
export function createOpenApiDocument(options: ApiOptions) {
  const { open, admin } = mountedRoutes(createApiContext(options), options);
  return buildOpenApiDocument([...open, ...admin], { version: API_VERSION });
}

function mountedRoutes(
  context: ReturnType<typeof createApiContext>,
  options: ApiOptions,
): { open: MountedRoutes[]; admin: MountedRoutes[] } {
  // Public: health for load balancers, webhooks (authenticated by signature or credentials over
  // the raw body, so before any JSON parser), and CTA links (the signed token is their authentication).
  const open: MountedRoutes[] = [
    { prefix: '/health', routes: healthRouter(context) },
    ...((options.metricsEndpoint ?? true) ? [{ prefix: '/metrics', routes: metricsRouter(context) }] : []),
    { prefix: '/webhooks/meta', routes: metaWebhooks(context) },
    { prefix: '/webhooks/infobip', routes: infobipWebhooks(context) },
    { prefix: '/webhooks', routes: webhooksRouter(context) },
    { prefix: '/track', routes: trackRouter(context) },
    // Sign-in takes the key in its body and reads the cookie itself.
    { prefix: '/session', routes: sessionRouter(context) },
  ];
  // Everything else needs an API key or a console session, and the route's role. Order matters where prefixes overlap: the more
  // specific router first (`/templates/sync-runs` is not a template id, `/settings/cta-signing-keys`
  // is not a provider's settings).
  const admin: MountedRoutes[] = [
    { prefix: '/settings/cta-signing-keys', routes: ctaSigningKeysRouter(context) },
    { prefix: '/settings/delivery', routes: deliverySettingsRouter(context) },
    { prefix: '/settings', routes: settingsRouter(context) },
    { prefix: '/leads', routes: leadsRouter(context) },
    { prefix: '/segments', routes: segmentsRouter(context) },
    { prefix: '/custom-fields', routes: customFieldsRouter(context) },
    { prefix: '/campaigns', routes: campaignsRouter(context) },
    { prefix: '/sequences', routes: sequencesRouter(context) },
    // Submissions and syncs first: the CRUD router's `GET /:id` would otherwise claim them.
    { prefix: '/templates/submissions', routes: templateSubmissionRouter(context) },
    { prefix: '/templates', routes: templateSyncRouter(context) },
    { prefix: '/templates', routes: templatesRouter(context) },
    { prefix: '/assignments', routes: assignmentsRouter(context) },
    { prefix: '/messages', routes: messagesRouter(context) },
    { prefix: '/cta/template-json', routes: ctaTemplateJsonRouter(context) },
    { prefix: '/cta', routes: ctaRouter(context) },
    { prefix: '/ivr', routes: ivrRouter(context) },
    { prefix: '/sync/infobip', routes: infobipSyncRouter(context) },
    { prefix: '/audit', routes: auditRouter(context) },
    { prefix: '/analytics', routes: analyticsRouter(context) },
  ];
  return { open, admin };
}

function mount(target: { use: Router['use'] }, routers: MountedRoutes[]): void {
  for (const { prefix, routes } of routers) target.use(prefix, routes.router);
}
