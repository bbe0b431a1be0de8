/**
 * The console's one way to the API: openapi-fetch typed by the schema generated from the API's own
 * OpenAPI document (scripts/console.ts), so a route the console calls wrongly is a type error.
 * Same origin, the session cookie sent by the browser; every change carries the CSRF token.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './api/schema';

export type Schemas = components['schemas'];
export type ErrorBody = Schemas['Error'];
export type FieldIssue = NonNullable<ErrorBody['error']['issues']>[number];

let csrfToken = '';
let onSignedOut: () => void = () => undefined;

export function setCsrfToken(token: string): void {
  csrfToken = token;
}
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

const session: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !new URL(request.url).pathname.startsWith('/session')) onSignedOut();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin' });
api.use(session);

/** An answer the API refused: its status and its documented error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
  ) {
    super(body?.error.message ?? `The API answered ${status}`);
  }
  get code(): string | undefined {
    return this.body?.error.code;
  }
  get issues(): FieldIssue[] {
    return this.body?.error.issues ?? [];
  }
}

/** The data of a successful call, or an ApiError carrying the API's error body. */
export async function must<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, error as ErrorBody | undefined);
  return data as T;
}
