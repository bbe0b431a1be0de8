import { describe, expect, it } from 'vitest';
import { isLinkPreviewRequest } from '../../src/cta/bots';

const get = (userAgent: string | undefined, extra: Record<string, string | string[]> = {}) => ({
  method: 'GET',
  headers: { ...(userAgent !== undefined && { 'user-agent': userAgent }), accept: 'text/html', ...extra },
});

const CHROME_ANDROID =
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36';

/** How a lead's tap arrives: mobile browsers and the in-app WebViews that open WhatsApp links. */
const HUMANS: [string, string][] = [
  ['Chrome on Android', CHROME_ANDROID],
  [
    'Android System WebView (in-app browsers, WhatsApp on Android)',
    'Mozilla/5.0 (Linux; Android 13; SM-A546E Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.179 Mobile Safari/537.36',
  ],
  [
    'Safari on iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  ],
  [
    'WKWebView on iPhone (in-app, no Safari token)',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  ],
  [
    'Chrome on iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1',
  ],
  [
    'Samsung Internet',
    'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36',
  ],
  ['Firefox on Android', 'Mozilla/5.0 (Android 14; Mobile; rv:126.0) Gecko/126.0 Firefox/126.0'],
  [
    'UC Browser',
    'Mozilla/5.0 (Linux; U; Android 11; en-US; RMX2193 Build/RP1A.200720.011) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/13.4.0.1306 Mobile Safari/537.36',
  ],
  [
    'Xiaomi MIUI browser',
    'Mozilla/5.0 (Linux; U; Android 12; en-in; M2101K6P Build/SKQ1.210908.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile Safari/537.36 XiaoMi/MiuiBrowser/14.6.0-gn',
  ],
  [
    'a CUBOT phone (model name contains "BOT")',
    'Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.101 Mobile Safari/537.36',
  ],
  [
    'Facebook in-app browser',
    'Mozilla/5.0 (Linux; Android 14; SM-A146U Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.88 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/453.0.0.40.107;]',
  ],
  [
    'Instagram in-app browser',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 330.0.3.31.91 (iPhone14,5; iOS 17_4; en_US; en; scale=3.00; 1170x2532; 604360584)',
  ],
  [
    'desktop Chrome',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36',
  ],
  [
    'desktop Edge',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0',
  ],
  ['curl, as an operator tries a link by hand', 'curl/8.5.0'],
];

/** Link unfurlers, preview services and crawlers. */
const MACHINES: [string, string][] = [
  ["WhatsApp's preview fetcher on Android", 'WhatsApp/2.23.20.0 A'],
  ["WhatsApp's preview fetcher on iOS", 'WhatsApp/2.23.18.78 i'],
  ["WhatsApp's preview fetcher, old format", 'WhatsApp/2.12.15/i'],
  ["WhatsApp's preview fetcher, bare", 'WhatsApp'],
  ['facebookexternalhit', 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)'],
  ['Facebot', 'Facebot'],
  ['Slackbot', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'],
  ['Twitterbot', 'Twitterbot/1.0'],
  ['TelegramBot', 'TelegramBot (like TwitterBot)'],
  ['Discordbot', 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)'],
  ['LinkedInBot', 'LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)'],
  [
    'Googlebot smartphone',
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.76 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  ],
  ['bingbot', 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)'],
  [
    'SkypeUriPreview',
    'Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com',
  ],
  [
    'Applebot',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)',
  ],
  ['an unknown crawler by product token', 'ExampleSpider/2.1'],
  ['an unknown bot in a compatible block', 'Mozilla/5.0 (compatible; AcmeLinkChecker; +https://acme.example/about)'],
  ['an unknown link previewer', 'AcmeLinkPreview/1.0'],
  ['a generic "bot" word', 'Mozilla/5.0 bot'],
  ['an empty user agent', ''],
];

describe('isLinkPreviewRequest', () => {
  it.each(HUMANS)('counts a GET from %s as a click', (_name, userAgent) => {
    expect(isLinkPreviewRequest(get(userAgent))).toBe(false);
  });

  it.each(MACHINES)('does not count a GET from %s', (_name, userAgent) => {
    expect(isLinkPreviewRequest(get(userAgent))).toBe(true);
  });

  it('does not count a request without a User-Agent', () => {
    expect(isLinkPreviewRequest(get(undefined))).toBe(true);
  });

  it.each([
    ['Sec-Purpose: prefetch', { 'sec-purpose': 'prefetch' }],
    ['Sec-Purpose: prefetch;prerender', { 'sec-purpose': 'prefetch;prerender' }],
    ['Sec-Purpose: prefetch;anonymous-client-ip', { 'sec-purpose': 'prefetch;anonymous-client-ip' }],
    ['Purpose: prefetch', { purpose: 'prefetch' }],
    ['X-Purpose: preview', { 'x-purpose': 'preview' }],
    ['X-Moz: prefetch', { 'x-moz': 'prefetch' }],
    ['a prefetch hint with mixed-case name and value', { 'Sec-Purpose': 'Prefetch' }],
    ['a prefetch hint sent twice', { purpose: ['prefetch', 'prefetch'] }],
  ])('does not count a browser request carrying %s', (_name, headers) => {
    expect(isLinkPreviewRequest(get(CHROME_ANDROID, headers))).toBe(true);
  });

  it('counts a browser GET whose unrelated headers mention nothing of prefetching', () => {
    expect(
      isLinkPreviewRequest(
        get(CHROME_ANDROID, { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', purpose: '' }),
      ),
    ).toBe(false);
  });

  it.each(['HEAD', 'head', 'OPTIONS', 'POST'])('does not count a %s request, even from a browser', (method) => {
    expect(isLinkPreviewRequest({ method, headers: { 'user-agent': CHROME_ANDROID } })).toBe(true);
  });
});
