import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { describeError, errorMessage, redactText } from '../../src/logging/redact';

describe('redactText', () => {
  it('masks phone numbers to their last four digits, in any common spelling', () => {
    expect(redactText('lead +919812345678 failed')).toBe('lead +••••••••5678 failed');
    expect(redactText('call (98) 1234-5678 now')).toBe('call (••) ••••-5678 now');
  });

  it('leaves ISO dates and times as they are', () => {
    expect(redactText('at 2026-12-06T02:36:59.742Z for 2026-12-06')).toBe('at 2026-12-06T02:36:59.742Z for 2026-12-06');
  });

  it('hides e-mail addresses, CTA tokens and credentials', () => {
    expect(redactText('to priya@example.com')).toBe('to [email]');
    expect(redactText('/track/12?token=12.7.i.1767225600.k1.AAAAAAAAAAAAAAAAAAAAAA')).not.toContain(
      'AAAAAAAAAAAAAAAAAAAAAA',
    );
    expect(redactText('sent Authorization: Bearer dl_abcdefghijklmnop')).toBe('sent Authorization: Bearer [redacted]');
    expect(redactText('GET /x?api_key=sk_live_123&page=2')).toBe('GET /x?api_key=[redacted]&page=2');
    expect(redactText('POST https://crm.example/webhooks/infobip/notify/Zx9_secret-segment-0123456789abcdef?x=1')).toBe(
      'POST https://crm.example/webhooks/infobip/notify/[redacted]?x=1',
    );
  });

  it('cuts a message longer than 500 characters', () => {
    expect(redactText('x'.repeat(2_000))).toHaveLength(501);
  });
});

describe('describeError', () => {
  it("keeps a failed query's SQL and drops its parameters", () => {
    const cause = Object.assign(new Error('UNIQUE constraint failed: Clients.Phone'), { code: 'SQLITE_CONSTRAINT' });
    const error = new DrizzleQueryError(
      'insert into "Clients" ("Name", "Phone") values (?, ?)',
      ['Priya Secretname', '+919812398765'],
      cause,
    );
    const line = describeError(error);
    expect(line).toBe(
      'DrizzleQueryError: failed query: insert into "Clients" ("Name", "Phone") values (?, ?) <- Error[SQLITE_CONSTRAINT]: UNIQUE constraint failed: Clients.Phone',
    );
  });

  it('masks the duplicate key SQL Server quotes in its message', () => {
    const error = Object.assign(
      new Error("Cannot insert duplicate key row in object 'dbo.Clients'. The duplicate key value is (+919812398765)."),
      {
        name: 'RequestError',
        number: 2601,
      },
    );
    expect(describeError(error)).toBe(
      "RequestError[2601]: Cannot insert duplicate key row in object 'dbo.Clients'. The duplicate key value is (+••••••••8765).",
    );
  });

  it('describes thrown non-errors and stops at a cyclic cause', () => {
    expect(describeError('plain +919812398765')).toBe('plain +••••••••8765');
    const cyclic = new Error('loop') as Error & { cause?: unknown };
    cyclic.cause = cyclic;
    expect(describeError(cyclic)).toBe('Error: loop');
    expect(errorMessage(new Error('to priya@example.com'))).toBe('to [email]');
  });
});
