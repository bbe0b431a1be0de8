/**
 * The pages a lead sees after tapping a CTA button. Each is one self-contained HTML document:
 * inline CSS, no scripts, no images, fonts or links to anywhere, so nothing loaded from the page
 * can carry the tokenised URL off in a Referer, and a strict CSP can forbid everything else.
 */
import type { CtaAction } from './contract';

export type CtaPageKind =
  'interested' | 'not_interested' | 'already_recorded' | 'invalid' | 'expired' | 'preview' | 'unavailable';

export interface CtaPageOptions {
  /** The project the message was about, e.g. "Palm Grove Residences". */
  projectName?: string;
  /** Who the lead is hearing from, e.g. "Bop Realty". */
  brandName?: string;
  /** For `already_recorded`: the answer that stands. */
  decision?: CtaAction;
}

/**
 * What the click endpoint sends with every page. The URL holds the token, so no Referer may leak
 * it and no cache or search index may keep it; the CSP allows the inline styles and nothing else.
 */
export const CTA_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Robots-Tag': 'noindex, nofollow',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
});

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

/** How an answer reads to people: on the pages and in the lead's timeline. */
export const CTA_ACTION_LABELS: Readonly<Record<CtaAction, string>> = {
  interested: 'Interested',
  not_interested: 'Not interested',
};

interface PageContent {
  /** Already escaped, like the paragraphs. */
  title: string;
  paragraphs: string[];
  tone: 'good' | 'neutral' | 'warn';
}

function content(kind: CtaPageKind, options: CtaPageOptions): PageContent {
  const project = options.projectName ? `<strong>${escapeHtml(options.projectName)}</strong>` : 'this project';
  const brand = options.brandName ? escapeHtml(options.brandName) : 'our team';
  switch (kind) {
    case 'interested':
      return {
        title: 'Thank you!',
        paragraphs: [
          `We're glad you're interested in ${project}.`,
          `We'll send you the brochure on WhatsApp shortly, and someone from ${brand} will call you soon.`,
        ],
        tone: 'good',
      };
    case 'not_interested':
      return {
        title: 'Thanks for letting us know',
        paragraphs: [
          `You won't get more messages about ${project}.`,
          'If you change your mind, just reply to our WhatsApp message.',
        ],
        tone: 'neutral',
      };
    case 'already_recorded': {
      const answer = options.decision
        ? `<strong>${escapeHtml(CTA_ACTION_LABELS[options.decision])}</strong>`
        : 'your answer';
      return {
        title: 'Already recorded',
        paragraphs: [`We already have your answer (${answer}) about ${project}.`, 'Nothing else needs to be done.'],
        tone: 'neutral',
      };
    }
    case 'invalid':
      return {
        title: 'This link is no longer valid',
        paragraphs: ['Nothing was changed.', 'If you meant to answer, please reply to our WhatsApp message instead.'],
        tone: 'warn',
      };
    case 'expired':
      return {
        title: 'This link has expired',
        paragraphs: [
          'This link is no longer valid, so nothing was changed.',
          'If you are still interested, please reply to our WhatsApp message.',
        ],
        tone: 'warn',
      };
    case 'unavailable':
      return {
        title: 'Please try again in a moment',
        paragraphs: [
          'We could not record your answer just now.',
          'Tap the button in our WhatsApp message again in a minute.',
        ],
        tone: 'warn',
      };
    case 'preview':
      return {
        title: options.brandName ? escapeHtml(options.brandName) : 'Your answer',
        paragraphs: ['Open this link on your phone to send your answer.'],
        tone: 'neutral',
      };
  }
}

const ACCENTS: Record<PageContent['tone'], string> = { good: '#1a7f37', neutral: '#3b5bdb', warn: '#b35900' };

/** A complete HTML document for `kind`; every option is escaped. */
export function renderCtaPage(kind: CtaPageKind, options: CtaPageOptions = {}): string {
  const page = content(kind, options);
  const footer = options.brandName ? `<p class="brand">${escapeHtml(options.brandName)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${page.title}</title>
<style>
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:24px;background:#f4f5f7;color:#1f2328;font:17px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{width:100%;max-width:420px;background:#fff;border-radius:16px;padding:28px 24px;box-shadow:0 2px 12px rgba(0,0,0,.08);border-top:6px solid ${ACCENTS[page.tone]}}
h1{margin:0 0 12px;font-size:1.4em;line-height:1.25;color:${ACCENTS[page.tone]}}
p{margin:0 0 10px}
.brand{margin:18px 0 0;font-size:.85em;color:#656d76}
</style>
</head>
<body>
<main>
<h1>${page.title}</h1>
${page.paragraphs.map((text) => `<p>${text}</p>`).join('\n')}
${footer}
</main>
</body>
</html>
`;
}
