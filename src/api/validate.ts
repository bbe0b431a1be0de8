import type { Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { InvalidInputError, type FieldIssue } from '../errors';
import { issuesFrom } from './errors';

interface Schemas {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface Input<S extends Schemas> {
  body: Out<S['body']>;
  query: Out<S['query']>;
  params: Out<S['params']>;
}

/**
 * The route wrapper: validates params, query and body with zod, answers 400 with every field
 * issue at once (and runs nothing), otherwise calls the handler with the parsed, typed values.
 */
export function handle<S extends Schemas>(
  schemas: S,
  handler: (input: Input<S>, res: Response, req: Request) => Promise<unknown> | unknown,
): RequestHandler {
  return async (req, res) => {
    const issues: FieldIssue[] = [];
    const input: Record<string, unknown> = {};
    const raw = { params: req.params, query: req.query, body: req.body ?? {} };
    for (const location of ['params', 'query', 'body'] as const) {
      const schema = schemas[location];
      if (!schema) continue;
      const parsed = schema.safeParse(raw[location]);
      if (parsed.success) input[location] = parsed.data;
      else issues.push(...issuesFrom(location, parsed.error));
    }
    if (issues.length > 0) throw new InvalidInputError(issues);
    await handler(input as unknown as Input<S>, res, req);
  };
}
