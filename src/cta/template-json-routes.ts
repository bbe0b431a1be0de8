import { Router } from 'express';
import {
  buildCtaTemplateJson,
  CtaTemplateRequest,
  projectUpdateTemplateRequest,
  ProjectUpdateTemplateOptions,
  TemplateJsonError,
} from './template-builder';
import { InvalidInputError } from '../errors';
import { handle } from '../api/validate';

/**
 * `/cta/template-json`: the JSON to create a WhatsApp template with (Meta's `message_templates`
 * format), validated against WhatsApp's rules. Pure: nothing is stored or sent.
 * `POST /project-update` gives the seed's two-button CTA template for a click endpoint's base URL.
 */
export function ctaTemplateJsonRouter(): Router {
  const router = Router();

  router.post(
    '/',
    handle({ body: CtaTemplateRequest }, ({ body }, res) => {
      res.json(build(() => buildCtaTemplateJson(body)));
    }),
  );

  router.post(
    '/project-update',
    handle({ body: ProjectUpdateTemplateOptions }, ({ body }, res) => {
      res.json(build(() => buildCtaTemplateJson(projectUpdateTemplateRequest(body))));
    }),
  );

  return router;
}

function build<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof TemplateJsonError)
      throw new InvalidInputError(error.issues.map((issue) => ({ location: 'body', ...issue })));
    throw error;
  }
}
