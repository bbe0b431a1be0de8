import express, { type ErrorRequestHandler, type Router } from 'express';
import { isLinkPreviewRequest } from './bots';
import { handleCtaClick, type CtaClickDeps } from './click';
import { CTA_RESPONSE_HEADERS, renderCtaPage } from './pages';
import { asClientError } from '../api/errors';
import type { CtaClickCounter } from '../metrics';

export interface TrackRouterDeps extends CtaClickDeps {
  metrics: { ctaClicks: CtaClickCounter };
}

/**
 * `GET /track/:leadId?token=…&action=…`, the URL behind each CTA button. Public: the signed token
 * is the authentication. Every answer is a small HTML page for a phone screen; a rejected link is
 * a 403 page and changes nothing. The query string (the token) is never logged (the logger's
 * request serializer names this route by its pattern only), and every request is counted by
 * outcome in `dripline_cta_clicks_total`.
 */
export function trackRouter(deps: TrackRouterDeps): Router {
  const router = express.Router();
  const count = (outcome: string) => deps.metrics.ctaClicks.inc({ outcome });
  router.get('/:leadId', async (req, res) => {
    try {
      const { leadId, token, action } = clickParams(req.params.leadId, req.query);
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
          res
            .status(200)
            .send(
              renderCtaPage('already_recorded', { projectName: outcome.flow.projectName, decision: outcome.decision }),
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
  });
  // Errors before the handler runs: the router could not decode the path segment (malformed
  // percent-encoding). A link that cannot be read is an invalid link: the page, not JSON, and the
  // segment (which may hold a token) stays out of the log.
  router.use(((error, _req, res, next) => {
    const clientError = asClientError(error);
    if (!clientError) {
      next(error);
      return;
    }
    count('invalid_link');
    deps.log.info({ reason: clientError.code }, 'CTA link rejected');
    res.set(CTA_RESPONSE_HEADERS);
    res.status(clientError.status).send(renderCtaPage('invalid'));
  }) as ErrorRequestHandler);
  return router;
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
