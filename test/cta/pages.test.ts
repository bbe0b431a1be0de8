import { describe, expect, it } from 'vitest';
import { CTA_RESPONSE_HEADERS, renderCtaPage, type CtaPageKind } from '../../src/cta/pages';

const KINDS: CtaPageKind[] = ['interested', 'not_interested', 'already_recorded', 'invalid', 'expired', 'preview'];
/** Every element the pages are built from; anything else in the markup came from an option. */
const PAGE_TAGS = ['!doctype', 'html', 'head', 'meta', 'title', 'style', 'body', 'main', 'h1', 'p', 'strong'];
const tagNames = (html: string): string[] =>
  [...html.matchAll(/<\/?([!a-z][a-z0-9]*)/gi)].map((m) => m[1]!.toLowerCase());
const HOSTILE = `<script>alert("x")</script><img src=https://evil.example/p.png onerror='x'>&amp;`;

describe('CTA pages', () => {
  it.each(KINDS)('%s is a complete mobile page that sends no referrer', (kind) => {
    const html = renderCtaPage(kind, { projectName: 'Palm Grove', brandName: 'Bop Realty', decision: 'interested' });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<meta name="referrer" content="no-referrer">');
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toMatch(/<title>[^<]+<\/title>/);
  });

  it.each(KINDS)('%s loads nothing from anywhere: no scripts, links, images, forms or URLs', (kind) => {
    const html = renderCtaPage(kind, {
      projectName: 'Palm Grove',
      brandName: 'Bop Realty',
      decision: 'not_interested',
    });
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<form|<a\s|@import|url\(|src=|href=/i);
    expect(html).not.toMatch(/https?:\/\//i);
  });

  it.each(KINDS)('%s escapes the project and brand names', (kind) => {
    const html = renderCtaPage(kind, { projectName: HOSTILE, brandName: HOSTILE, decision: 'interested' });
    for (const tag of tagNames(html)) expect(PAGE_TAGS).toContain(tag);
    if (kind !== 'invalid' && kind !== 'expired') {
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
      expect(html).toContain('&amp;amp;');
    }
  });

  it('says what happens next for each answer, in plain words', () => {
    expect(renderCtaPage('interested', { projectName: 'Palm Grove', brandName: 'Bop Realty' })).toMatch(
      /brochure[\s\S]*Bop Realty will call you/,
    );
    expect(renderCtaPage('interested', { projectName: 'Palm Grove' })).toContain('<strong>Palm Grove</strong>');
    expect(renderCtaPage('not_interested', { projectName: 'Palm Grove' })).toContain(
      "You won't get more messages about <strong>Palm Grove</strong>",
    );
    expect(renderCtaPage('already_recorded', { decision: 'not_interested' })).toContain(
      '(<strong>Not interested</strong>)',
    );
    expect(renderCtaPage('already_recorded', { decision: 'interested' })).toContain('(<strong>Interested</strong>)');
    for (const kind of ['invalid', 'expired'] as const) {
      const html = renderCtaPage(kind);
      expect(html).toContain('no longer valid');
      expect(html).toMatch(/nothing was changed/i);
    }
    expect(renderCtaPage('preview')).not.toMatch(/thank|recorded|interested/i);
  });

  it('works without any options', () => {
    for (const kind of KINDS) expect(renderCtaPage(kind)).toContain('</html>');
    expect(renderCtaPage('interested')).toContain('this project');
  });

  it('comes with headers that keep the tokenised URL out of referrers, caches and indexes, and allow only inline styles', () => {
    expect(CTA_RESPONSE_HEADERS).toMatchObject({
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    expect(CTA_RESPONSE_HEADERS['X-Robots-Tag']).toMatch(/noindex/);
    const csp = CTA_RESPONSE_HEADERS['Content-Security-Policy']!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/style-src 'unsafe-inline'/);
    expect(csp).not.toMatch(/script-src|https?:/);
    expect(Object.isFrozen(CTA_RESPONSE_HEADERS)).toBe(true);
  });
});
