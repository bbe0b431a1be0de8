import {
  buildCtaTemplateJson,
  CtaTemplateRequest,
  projectUpdateTemplateRequest,
  ProjectUpdateTemplateOptions,
  TemplateJsonError,
} from './template-builder';
import { InvalidInputError } from '../errors';
import { z } from 'zod';

const Button = z.union([
  z.strictObject({
    type: z.literal('URL'),
    text: z.string(),
    url: z.string(),
    example: z.array(z.string()).optional(),
  }),
  z.strictObject({ type: z.literal('QUICK_REPLY'), text: z.string() }),
  z.strictObject({ type: z.literal('PHONE_NUMBER'), text: z.string(), phone_number: z.string() }),
]);

/** Meta's `message_templates` creation body, which Tata Omni and other BSPs take as is. */
const TemplateJsonResponse = z
  .strictObject({
    name: z.string(),
    language: z.string(),
    category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']),
    components: z.array(
      z.union([
        z.strictObject({
          type: z.literal('HEADER'),
          format: z.literal('TEXT'),
          text: z.string(),
          example: z.strictObject({ header_text: z.array(z.string()) }).optional(),
        }),
        z.strictObject({
          type: z.literal('HEADER'),
          format: z.enum(['DOCUMENT', 'IMAGE', 'VIDEO']),
          example: z.strictObject({ header_handle: z.array(z.string()) }),
        }),
        z.strictObject({
          type: z.literal('BODY'),
          text: z.string(),
          example: z.strictObject({ body_text: z.array(z.array(z.string())) }).optional(),
        }),
        z.strictObject({ type: z.literal('FOOTER'), text: z.string() }),
        z.strictObject({ type: z.literal('BUTTONS'), buttons: z.array(Button) }),
      ]),
    ),
  })
  .meta({ id: 'WhatsAppTemplateJson' });
import { ApiRouter } from '../api/route';

/**
 * `/cta/template-json`: the JSON to create a WhatsApp template with (Meta's `message_templates`
 * format), validated against WhatsApp's rules. Pure: nothing is stored or sent.
 * `POST /project-update` gives the seed's two-button CTA template for a click endpoint's base URL.
 */
export function ctaTemplateJsonRouter(deps: { checkResponses: boolean }): ApiRouter {
  const routes = new ApiRouter({ tag: 'Message Master', checkResponses: deps.checkResponses });

  routes.post(
    '/',
    {
      summary: "Build a template's creation JSON",
      description:
        'From name, language, body with examples, footer and buttons; every rule WhatsApp reviews mechanically is checked first, and a 400 lists them all. Nothing is stored or sent.',
      body: CtaTemplateRequest,
      responses: { 200: TemplateJsonResponse },
    },
    ({ body }, res) => {
      res.json(build(() => buildCtaTemplateJson(body)));
    },
  );

  routes.post(
    '/project-update',
    {
      summary: "The seed's two-button CTA template for a click endpoint",
      description: 'project_update_template: both URL buttons open <baseUrl>/track/{{1}}.',
      body: ProjectUpdateTemplateOptions,
      responses: { 200: TemplateJsonResponse },
    },
    ({ body }, res) => {
      res.json(build(() => buildCtaTemplateJson(projectUpdateTemplateRequest(body))));
    },
  );

  return routes;
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
