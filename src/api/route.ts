/**
 * How a route is declared: once, with its request and response schemas. The same zod objects
 * validate the request (400 with every field issue, nothing run), type the handler, generate the
 * OpenAPI document (src/api/openapi.ts), and — when response checking is on (tests, development) —
 * check every JSON body the handler sends against the schema documented for its status.
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Role } from '../db/schema/values';
import { AppError, InvalidInputError, type FieldIssue } from '../errors';
import { principalOf } from './auth';
import { issuesFrom } from './errors';

export interface RequestSchemas {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface Input<S extends RequestSchemas> {
  body: Out<S['body']>;
  query: Out<S['query']>;
  params: Out<S['params']>;
}

/** A response: a JSON body's schema, or another content type (an event stream, an HTML page). */
export type ResponseSpec =
  | z.ZodType
  | {
      description: string;
      schema?: z.ZodType;
      contentType?: 'application/json' | 'text/event-stream' | 'text/html' | 'text/plain' | 'text/csv';
    };

export interface RouteSpec extends RequestSchemas {
  summary: string;
  description?: string;
  /** Every status the route answers with on purpose; the shared error statuses are added by the document. */
  responses: Record<number, ResponseSpec>;
  /** Raw-body routes (webhooks) read their own body: what the document shows for it. */
  rawBody?: { contentType: string; schema?: z.ZodType; description: string };
  /** Middleware run before validation (a raw body parser, an early credential check). */
  before?: RequestHandler[];
  /** The least role that may call it; by default `agent` for reads and the router's `writeRole` for changes. */
  role?: Role;
}

export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The Express path within its router, e.g. `/:id/archive`. */
  path: string;
  spec: RouteSpec;
  /** The least role that may call it; absent on public routes. */
  role?: Role;
}

export interface RouterOptions {
  /** The group the document lists these operations under. */
  tag: string;
  /** Check JSON response bodies against their documented schema (a mismatch is a 500 and a log line). */
  checkResponses: boolean;
  /** Public routes need no API key (health, webhooks, CTA links, the document itself). */
  public?: boolean;
  /**
   * The least role that may change things through this router (POST, PUT, PATCH, DELETE): `admin`
   * for provider settings, keys, signing keys and templates; `agent` (the default) for the
   * day-to-day work on leads, drips, campaigns and CTA flows. Reads need `agent` unless a route says.
   */
  writeRole?: Role;
}

type Handler<S extends RequestSchemas> = (input: Input<S>, res: Response, req: Request) => Promise<unknown> | unknown;

export class ResponseContractError extends Error {
  constructor(
    readonly route: string,
    readonly status: number,
    readonly issues: FieldIssue[],
  ) {
    super(
      `${route} answered ${status} with a body its documented schema refuses: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    );
    this.name = 'ResponseContractError';
  }
}

/** An Express router whose routes are declared with their schemas, and remembered for the document. */
export class ApiRouter {
  readonly router = express.Router();
  readonly operations: Operation[] = [];

  constructor(readonly options: RouterOptions) {}

  get<S extends RouteSpec>(path: string, spec: S, handler: Handler<S>): this {
    return this.add('get', path, spec, handler);
  }
  post<S extends RouteSpec>(path: string, spec: S, handler: Handler<S>): this {
    return this.add('post', path, spec, handler);
  }
  put<S extends RouteSpec>(path: string, spec: S, handler: Handler<S>): this {
    return this.add('put', path, spec, handler);
  }
  patch<S extends RouteSpec>(path: string, spec: S, handler: Handler<S>): this {
    return this.add('patch', path, spec, handler);
  }
  delete<S extends RouteSpec>(path: string, spec: S, handler: Handler<S>): this {
    return this.add('delete', path, spec, handler);
  }

  private add<S extends RouteSpec>(method: Operation['method'], path: string, spec: S, handler: Handler<S>): this {
    const role = this.options.public
      ? undefined
      : (spec.role ?? (method === 'get' ? 'agent' : (this.options.writeRole ?? 'agent')));
    this.operations.push({ method, path, spec, ...(role && { role }) });
    const label = `${method.toUpperCase()} ${path}`;
    this.router[method](
      path,
      ...(role === 'admin' ? [requireRole('admin')] : []),
      ...(spec.before ?? []),
      validated(spec, handler, this.options.checkResponses ? label : undefined),
    );
    return this;
  }
}

/** A route for admins only: an agent's key gets 403 saying what is missing, and nothing runs. */
function requireRole(role: Role): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (principal && principal.role !== role) {
      throw new AppError(
        'forbidden',
        'role_required',
        `this needs the ${role} role; the credentials used have the ${principal.role} role`,
      );
    }
    next();
  };
}

/**
 * Validates params, query and body with zod, answers 400 with every field issue at once (and runs
 * nothing), otherwise calls the handler with the parsed, typed values.
 */
function validated<S extends RouteSpec>(spec: S, handler: Handler<S>, checkLabel: string | undefined): RequestHandler {
  return async (req, res) => {
    const issues: FieldIssue[] = [];
    const input: Record<string, unknown> = {};
    const raw = { params: req.params, query: req.query, body: req.body ?? {} };
    for (const location of ['params', 'query', 'body'] as const) {
      const schema = spec[location];
      if (!schema) continue;
      const parsed = schema.safeParse(raw[location]);
      if (parsed.success) input[location] = parsed.data;
      else issues.push(...issuesFrom(location, parsed.error));
    }
    if (issues.length > 0) throw new InvalidInputError(issues);
    if (checkLabel) checkJsonResponses(res, spec.responses, checkLabel);
    await handler(input as unknown as Input<S>, res, req);
  };
}

/** The JSON schema documented for `status`, if the route documents a JSON body for it. */
export function jsonSchemaFor(responses: Record<number, ResponseSpec>, status: number): z.ZodType | undefined {
  const spec = responses[status];
  if (!spec) return undefined;
  if (spec instanceof z.ZodType) return spec;
  return (spec.contentType ?? 'application/json') === 'application/json' ? spec.schema : undefined;
}

function checkJsonResponses(res: Response, responses: Record<number, ResponseSpec>, label: string): void {
  const send = res.json.bind(res);
  res.json = (body: unknown) => {
    // Statuses the route does not document (the shared error bodies) are checked by the error handler's own shape.
    const schema = jsonSchemaFor(responses, res.statusCode);
    if (schema && res.statusCode < 400) {
      // What the client receives: dates as ISO strings, undefined fields gone.
      const parsed = schema.safeParse(JSON.parse(JSON.stringify(body)));
      if (!parsed.success) throw new ResponseContractError(label, res.statusCode, issuesFrom('body', parsed.error));
    }
    return send(body);
  };
}
