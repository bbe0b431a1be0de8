/**
 * Whether a request to a CTA link is a machine looking at the link rather than the lead tapping
 * it. WhatsApp itself fetches a link to draw its preview, messengers and mail scanners unfurl
 * links they see, and browsers prefetch; none of these may record a decision. Such requests get
 * the neutral preview page and change nothing.
 *
 * Deliberately not flagged: ordinary mobile browsers and in-app WebViews (Android `; wv)`,
 * iOS WKWebView, Facebook/Instagram in-app browsers), which is how a lead's tap arrives. WhatsApp
 * opens links in the system browser or a WebView with the system UA, never with its fetcher's
 * `WhatsApp/2.x` UA, so only that UA at the start of the string is treated as WhatsApp's fetcher.
 * HTTP libraries (curl, node's fetch) are not flagged either: they are how operators and tests
 * try a link by hand. A user agent is a claim, so this filters honest machines; the token and the
 * first-decision-stands rule are what protect the outcome.
 */

export interface RequestLike {
  method: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Link unfurlers, preview services and crawlers by the product token they send. */
const KNOWN_FETCHERS =
  /facebookexternalhit|facebookcatalog|meta-externalagent|meta-externalfetcher|facebot|slackbot|slack-imgproxy|twitterbot|telegrambot|discordbot|linkedinbot|googlebot|google-inspectiontool|adsbot-google|mediapartners-google|feedfetcher-google|googleother|bingbot|bingpreview|msnbot|skypeuripreview|applebot|pinterestbot|redditbot|embedly|iframely|vkshare|snap url preview|yandex(?:bot|images)|duckduckbot|baiduspider|petalbot|mastodon|bluesky|microsoft office|ms-office|outlook-(?:ios|android)|headlesschrome|lighthouse|chrome-lighthouse|prerender/i;

/** WhatsApp's own preview fetcher: `WhatsApp/2.23.20.0 A`, `WhatsApp/2.2329.8 i`, `WhatsApp/0.3.4479 N`. */
const WHATSAPP_FETCHER = /^WhatsApp(?:\/|\s|$)/i;

/**
 * Generic markers, written so phone models such as `CUBOT X19` do not match: a `…bot/1.0` style
 * product token, a standalone word, a `(compatible; …bot …)` block, or a crawler's `+http://`
 * contact URL.
 */
const GENERIC_MARKERS = [
  /(?:bot|crawler|spider|preview|fetcher|scanner)\//i,
  /\b(?:bot|crawler|spider|preview|crawl)\b/i,
  /\(compatible;[^)]*(?:bot|crawler|spider|preview)/i,
  /\+https?:\/\//i,
];

/** `Sec-Purpose: prefetch;prerender`, `Purpose: prefetch`, `X-Moz: prefetch`, `X-Purpose: preview`. */
const PREFETCH_HEADERS: Record<string, RegExp> = {
  'sec-purpose': /\b(?:prefetch|prerender)\b/i,
  purpose: /\b(?:prefetch|prerender|preview)\b/i,
  'x-purpose': /\b(?:prefetch|prerender|preview)\b/i,
  'x-moz': /\b(?:prefetch|prerender)\b/i,
};

function header(headers: RequestLike['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return Array.isArray(value) ? value.join(', ') : value;
  }
  return undefined;
}

export function isLinkPreviewUserAgent(userAgent: string | undefined): boolean {
  const ua = userAgent?.trim() ?? '';
  // Every browser sends a user agent; a request without one is a script or a scanner.
  if (ua === '') return true;
  return WHATSAPP_FETCHER.test(ua) || KNOWN_FETCHERS.test(ua) || GENERIC_MARKERS.some((marker) => marker.test(ua));
}

/** True for requests that must not count as a click: anything but GET, prefetches, previews and bots. */
export function isLinkPreviewRequest(req: RequestLike): boolean {
  if (req.method.toUpperCase() !== 'GET') return true;
  for (const [name, pattern] of Object.entries(PREFETCH_HEADERS)) {
    const value = header(req.headers, name);
    if (value !== undefined && pattern.test(value)) return true;
  }
  return isLinkPreviewUserAgent(header(req.headers, 'user-agent'));
}
