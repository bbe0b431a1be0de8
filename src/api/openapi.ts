/**
 * The OpenAPI 3.1 document, generated from the routes as they are declared (src/api/route.ts): the
 * zod schemas that validate each request and check each response are the ones documented. Served
 * at `GET /openapi.json`; `/docs` renders it with Swagger UI from the swagger-ui-dist package (no
 * CDN). test/api/openapi.test.ts proves every route the app serves is documented and every
 * documented route is served.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type RequestHandler, type Router } from 'express';
import { AppError } from '../errors';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { ErrorBody } from './schemas';
import type { ApiRouter, ResponseSpec } from './route';

export interface MountedRoutes {
  /** Where the router is mounted, e.g. `/leads`. */
  prefix: string;
  routes: ApiRouter;
}

/** `/:id/archive` under `/sequences` → `/sequences/{id}/archive`. */
export function openApiPath(prefix: string, expressPath: string): string {
  const joined = `${prefix}${expressPath === '/' ? '' : expressPath}` || '/';
  return joined.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorBody } },
});

function responseObject(status: number, spec: ResponseSpec) {
  if (spec instanceof z.ZodType)
    return { description: defaultDescription(status), content: { 'application/json': { schema: spec } } };
  const contentType = spec.contentType ?? 'application/json';
  return {
    description: spec.description,
    ...(spec.schema || contentType !== 'application/json'
      ? { content: { [contentType]: { schema: spec.schema ?? z.string() } } }
      : {}),
  };
}

function defaultDescription(status: number): string {
  return status === 201 ? 'Created' : status === 202 ? 'Accepted' : 'OK';
}

export function buildOpenApiDocument(mounted: MountedRoutes[], info: { version: string }) {
  const paths: ZodOpenApiPathsObject = {};
  for (const { prefix, routes } of mounted) {
    for (const { method, path: routePath, spec, role } of routes.operations) {
      const responses: Record<string, ReturnType<typeof errorResponse> | ReturnType<typeof responseObject>> = {};
      for (const [status, response] of Object.entries(spec.responses))
        responses[status] = responseObject(Number(status), response);
      // The statuses every route shares, answered by the error handler in the documented error shape.
      if (spec.body || spec.query || spec.params || spec.rawBody)
        responses['400'] ??= errorResponse('Invalid request: every field issue at once');
      if (!routes.options.public) {
        responses['401'] ??= errorResponse('No API key, or not a valid one');
      }
      if (role === 'admin')
        responses['403'] ??= errorResponse(
          'The credentials used have the agent role; this needs admin (or a session cookie without its CSRF token)',
        );
      else if (role && method !== 'get')
        responses['403'] ??= errorResponse('A change made with a session cookie without its X-CSRF-Token');
      if (spec.params) responses['404'] ??= errorResponse('Not found');
      responses['500'] ??= errorResponse('Unexpected failure (details only in the server log)');

      const operation: ZodOpenApiOperationObject = {
        tags: [routes.options.tag],
        summary: spec.summary,
        ...((spec.description || role === 'admin') && {
          description: [spec.description, role === 'admin' ? 'Requires the admin role.' : undefined]
            .filter(Boolean)
            .join(' '),
        }),
        ...(role && { 'x-required-role': role }),
        operationId: operationId(method, openApiPath(prefix, routePath)),
        ...((spec.params || spec.query) && {
          requestParams: {
            ...(spec.params && { path: spec.params as never }),
            ...(spec.query && { query: spec.query as never }),
          },
        }),
        ...(spec.body && { requestBody: { required: true, content: { 'application/json': { schema: spec.body } } } }),
        ...(spec.rawBody && {
          requestBody: {
            required: true,
            description: spec.rawBody.description,
            content: { [spec.rawBody.contentType]: { schema: spec.rawBody.schema ?? z.unknown() } },
          },
        }),
        responses: responses as ZodOpenApiOperationObject['responses'],
        ...(routes.options.public ? { security: [] } : {}),
      };
      const key = openApiPath(prefix, routePath);
      paths[key] = { ...paths[key], [method]: operation };
    }
  }
  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Dripline API',
        version: info.version,
        description:
          'WhatsApp drip sequences, CTA follow-ups and CRM sync beside a CRM. Every route except the public ones needs an API key (admin or agent) or a console session.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An admin API key: `Authorization: Bearer <key>`' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'dripline_session',
            description: 'The console session (POST /session); changes also need its `X-CSRF-Token` header',
          },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }, { session: [] }],
      paths,
    },
    // Document what a client sends (defaults optional) for requests, and what it receives for responses.
    { reused: 'inline' },
  );
}

/** `post /sequences/{id}/archive` → `postSequencesIdArchive`: stable, readable names for generated clients. */
function operationId(method: string, openApiRoute: string): string {
  const words = openApiRoute
    .split(/[/{}_-]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1));
  return method + words.join('');
}

/**
 * 405 with an `Allow` header for a path the API serves with other methods (RFC 9110 §15.5.6),
 * instead of a 404 that says the resource does not exist. Mounted after every router.
 */
export function methodNotAllowed(mounted: MountedRoutes[]): RequestHandler {
  const paths: { pattern: RegExp; methods: Set<string> }[] = [];
  for (const { prefix, routes } of mounted) {
    for (const { method, path: routePath } of routes.operations) {
      // `{id}` is a row id (digits), so `/templates/sync` is not `/templates/{id}`; other parameters take a segment.
      const source = openApiPath(prefix, routePath)
        .split(/(\{[^}]+\})/)
        .map((part) =>
          part === '{id}' ? '[0-9]+' : part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
        )
        .join('');
      const existing = paths.find((entry) => entry.pattern.source === `^${source}/?$`);
      if (existing) existing.methods.add(method.toUpperCase());
      else paths.push({ pattern: new RegExp(`^${source}/?$`), methods: new Set([method.toUpperCase()]) });
    }
  }
  return (req, res, next) => {
    const allowed = new Set(
      paths.filter((entry) => entry.pattern.test(req.path)).flatMap((entry) => [...entry.methods]),
    );
    if (allowed.size === 0 || allowed.has(req.method)) {
      next();
      return;
    }
    if (allowed.has('GET')) allowed.add('HEAD');
    res.set('Allow', [...allowed].sort().join(', '));
    next(
      new AppError(
        'method_not_allowed',
        'method_not_allowed',
        `${req.method} is not allowed here; allowed: ${[...allowed].sort().join(', ')}`,
      ),
    );
  };
}

const require_ = createRequire(__filename);

/** `/docs`: Swagger UI, served from the swagger-ui-dist package, reading `/openapi.json`. */
export function docsRouter(): Router {
  const router = express.Router();
  const assets = path.dirname(require_.resolve('swagger-ui-dist/package.json'));
  router.get('/', (_req, res) => {
    res.type('html').send(DOCS_PAGE);
  });
  router.get('/init.js', (_req, res) => {
    res.type('js').send(DOCS_INIT);
  });
  router.use(express.static(assets, { index: false, fallthrough: false }));
  return router;
}

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dripline API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true, persistAuthorization: false });\n`;
