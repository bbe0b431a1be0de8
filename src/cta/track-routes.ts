import type { ErrorRequestHandler } from 'express';
import { z } from 'zod';
import { isLinkPreviewRequest } from './bots';
import { handleCtaClick, type CtaClickDeps } from './click';
import { CTA_RESPONSE_HEADERS, renderCtaPage } from './pages';
import { asClientError } from '../api/errors';
import { ApiRouter } from '../api/route';
import { InvalidInputError } from '../errors';
import type { CtaClickCounter } from '../metrics';

export interface TrackRouterDeps extends CtaClickDeps {
  metrics: { ctaClicks: CtaClickCounter };
  checkResponses: boolean;
}

const page = (description: string) => ({ description, contentType: 'text/html' as const });

/**
 * Documented, and deliberately loose: whatever a link holds is judged by the click, which answers
 * with a page. A real link's path segment is a lead id, or at most the whole suffix
 * percent-encoded (about 200 characters).
 */
const TrackParams = z.object({ leadId: z.string().max(512) });
const TrackQuery = z.looseObject({
  token: z.string().max(512).optional().meta({ description: 'The signed CTA token' }),
  action: z.string().max(32).optional().meta({ description: '`interested` or `not_interested`' }),
});

/**
 * `GET /track/:leadId?token=…&action=…`, the URL behind each CTA button. Public: the signed token
 * is the authentication. Every answer is a small HTML page for a phone screen; a rejected link is
 * a 403 page and changes nothing. The query string (the token) is never logged (the logger's
 * request serializer names this route by its pattern only), and every request is counted by
 * outcome in `dripline_cta_clicks_total`.
 */
export function trackRouter(deps: TrackRouterDeps): ApiRouter {
  const routes = new ApiRouter({ tag: 'CTA links', checkResponses: deps.checkResponses, public: true });
  const count = (outcome: string) => deps.metrics.ctaClicks.inc({ outcome });
  routes.get(
    '/:leadId',
    {
      summary: "A CTA button's link (public: the signed token is its authentication)",
      description:
        'The first valid tap decides and moves the lead; later taps see "already recorded"; link previews and prefetches change nothing. A tampered, expired or other lead\'s link gets a 403 page and changes nothing.',
      params: TrackParams,
      query: TrackQuery,
      responses: {
        200: page('The answer is recorded (or was already), or a neutral page for a link preview'),
        400: page('The link could not be read'),
        403: page('The link is not valid, or has expired: nothing changed'),
        503: page('The answer could not be recorded just now: tap again in a minute'),
      },
    },
    async ({ params }, res, req) => {
      try {
        const { leadId, token, action } = clickParams(params.leadId, req.query);
        const outcome = await handleCtaClick(deps, {
          leadId,
          token,
          action,
          userAgent: req.get('user-agent'),
          isPreview: isLinkPreviewRequest(req),
        });
        res.set(CTA_RESPONSE_HEADERS);
        count(outcome.kind);
        switch (outcome.kind) {
          case 'recorded':
            deps.log.info({ leadId: Number(leadId), flowId: outcome.flow.id, action: outcome.action }, 'CTA answered');
            res.status(200).send(renderCtaPage(outcome.action, { projectName: outcome.flow.projectName }));
            return;
          case 'already_recorded':
            res.status(200).send(
              renderCtaPage('already_recorded', {
                projectName: outcome.flow.projectName,
                decision: outcome.decision,
              }),
            );
            return;
          case 'preview':
            res.status(200).send(renderCtaPage('preview'));
            return;
          case 'rejected':
            deps.log.info(
              { ...(/^\d{1,10}$/.test(leadId) && { leadId: Number(leadId) }), reason: outcome.reason },
              'CTA link rejected',
            );
            res.status(403).send(renderCtaPage(outcome.reason === 'expired' ? 'expired' : 'invalid'));
            return;
        }
      } catch (error) {
        // Not the shared error handler: it answers JSON, and a lead gets a page.
        count('failed');
        deps.log.error({ err: error }, 'CTA click failed');
        res.set(CTA_RESPONSE_HEADERS);
        res.status(503).send(renderCtaPage('unavailable'));
      }
    },
  );
  // Errors before the handler runs: the router could not decode the path segment (malformed
  // percent-encoding), or the link's parts are not even strings. A link that cannot be read is an
  // invalid link: the page, not JSON, and the segment (which may hold a token) stays out of the log.
  routes.router.use(((error, _req, res, next) => {
    const unreadable =
      error instanceof InvalidInputError ? { status: 400, code: 'malformed_link' } : asClientError(error);
    if (!unreadable) {
      next(error);
      return;
    }
    count('invalid_link');
    deps.log.info({ reason: unreadable.code }, 'CTA link rejected');
    res.set(CTA_RESPONSE_HEADERS);
    res.status(unreadable.status).send(renderCtaPage('invalid'));
  }) as ErrorRequestHandler);
  return routes;
}

/**
 * The button's dynamic suffix is `<leadId>?token=…&action=…`. Should a provider percent-encode it,
 * the whole suffix arrives as the path segment (`12%3Ftoken%3D…`), which Express decodes into the
 * `leadId` parameter: read the query from there.
 */
function clickParams(
  segment: string,
  query: Record<string, unknown>,
): { leadId: string; token: unknown; action: unknown } {
  const mark = segment.indexOf('?');
  if (mark === -1) return { leadId: segment, token: query.token, action: query.action };
  const inner = new URLSearchParams(segment.slice(mark + 1));
  return {
    leadId: segment.slice(0, mark),
    token: inner.get('token') ?? undefined,
    action: inner.get('action') ?? undefined,
  };
}
