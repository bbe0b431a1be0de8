import { describe, expect, it } from 'vitest';
import {
  chooseLogFormat,
  createLogger,
  loggablePath,
  runInRequestScope,
  runOutsideRequestScope,
  temporalLogger,
} from '../../src/logging/logger';
import { captureLogs } from '../support/logs';

describe('the logger', () => {
  it('masks phone fields to their last four digits and censors secret fields, top level and one level down', () => {
    const logs = captureLogs();
    logs.logger.info(
      {
        phone: '+919812345678',
        lead: { phone: '+919812345679', email: 'asha@example.com' },
        apiKey: 'dl_live_key_123456',
        settings: { webhookSecret: 'whsec-abcdef', password: 'hunter22' },
        req: { headers: { authorization: 'Bearer abcdefgh12345678', 'x-api-key': 'dl_key_987654321' } },
        leadId: 12,
      },
      'lead updated',
    );
    const [line] = logs.lines();
    expect(line).toMatchObject({
      phone: '+••••••••5678',
      lead: { phone: '+••••••••5679', email: '[email]' },
      apiKey: '[redacted]',
      settings: { webhookSecret: '[redacted]', password: '[redacted]' },
      leadId: 12,
      msg: 'lead updated',
    });
    const text = logs.text()[0]!;
    for (const secret of ['9812345678', 'asha@', 'dl_live_key', 'whsec', 'hunter22', 'abcdefgh12345678', 'dl_key_98'])
      expect(text).not.toContain(secret);
  });

  it('redacts messages: phone numbers, e-mail addresses, CTA tokens and credentials', () => {
    const logs = captureLogs();
    logs.logger.warn(
      'send to +91 98123 45678 (asha@example.com) failed with Bearer abcdefgh12345678 for 12.3.i.1767225600.k1.AAAAAAAAAAAAAAAAAAAAAA',
    );
    const { msg } = logs.lines()[0]!;
    expect(msg).toBe('send to +•• ••••• •5678 ([email]) failed with Bearer [redacted] for [cta-token]');
  });

  it('describes an error instead of dumping it: class, code, SQL without its values, message redacted', () => {
    const logs = captureLogs();
    const driver = Object.assign(new Error('UNIQUE constraint failed: Clients.Phone (+919812345678)'), {
      code: 'SQLITE_CONSTRAINT',
    });
    const query = Object.assign(new Error('Failed query: insert into "Clients" ...\nparams: Asha,+919812345678'), {
      name: 'DrizzleQueryError',
      query: 'insert into "Clients" ("Name", "Phone") values (?, ?)',
      params: ['Asha', '+919812345678'],
      cause: driver,
    });
    logs.logger.error(query);
    logs.logger.error({ err: query }, 'lead not saved');
    const [bare, described] = logs.lines();
    for (const line of [bare, described]) {
      expect(line!.err).toEqual({
        type: 'DrizzleQueryError',
        message:
          'DrizzleQueryError: failed query: insert into "Clients" ("Name", "Phone") values (?, ?) <- Error[SQLITE_CONSTRAINT]: UNIQUE constraint failed: Clients.Phone (+••••••••5678)',
      });
    }
    expect(bare!.msg).toBe(bare!.err && (bare!.err as { message: string }).message);
    expect(described!.msg).toBe('lead not saved');
    expect(logs.text().join('\n')).not.toMatch(/9812345678|Asha|stack/);
  });

  it('puts the request id of the surrounding request on every line, from any logger, and none outside', async () => {
    const logs = captureLogs();
    const child = logs.logger.child({ component: 'queue' });
    await runInRequestScope('req-1', async () => {
      logs.logger.info('first');
      await new Promise((resolve) => setTimeout(resolve, 1));
      child.info({ reqId: 'req-1' }, 'second');
      runOutsideRequestScope(() => logs.logger.info('batch'));
    });
    logs.logger.info('after');
    expect(logs.lines().map((line) => [line.msg, line.reqId])).toEqual([
      ['first', 'req-1'],
      ['second', 'req-1'],
      ['batch', undefined],
      ['after', undefined],
    ]);
    // Given explicitly and by the scope: one field, not two.
    expect(logs.text()[1]!.match(/"reqId"/g)).toHaveLength(1);
  });

  it('logs a path without its query string, CTA links by pattern only, ids as they are', () => {
    expect(loggablePath('/leads?search=+919812345678')).toBe('/leads');
    expect(loggablePath('/leads/2147483647/timeline')).toBe('/leads/2147483647/timeline');
    expect(loggablePath('/leads/9812345678')).toBe('/leads/••••••5678');
    expect(loggablePath('/track/12?token=12.3.i.1767225600.k1.SECRETMACSECRETMAC&action=interested')).toBe(
      '/track/:leadId',
    );
    expect(loggablePath('/track/12%3Ftoken%3D12.3.i.1767225600.k1.SECRETMAC')).toBe('/track/:leadId');
  });

  it('writes one readable line per event in pretty format', () => {
    const written: string[] = [];
    const logger = createLogger({ level: 'info', format: 'pretty', destination: { write: (s) => written.push(s) } });
    logger.info({ leadId: 3, nested: { a: 1 } }, 'welcome not started');
    expect(written).toHaveLength(1);
    expect(written[0]!.trimEnd().split('\n')).toHaveLength(1);
    expect(written[0]).toMatch(/INFO.*welcome not started.*"leadId":3/);
  });

  it('is pretty only for a terminal outside production, unless configured; never pretty in production', () => {
    expect(chooseLogFormat(undefined, 'development', true)).toBe('pretty');
    expect(chooseLogFormat(undefined, 'development', false)).toBe('json');
    expect(chooseLogFormat('pretty', 'development', false)).toBe('pretty');
    expect(chooseLogFormat('json', 'development', true)).toBe('json');
    expect(chooseLogFormat('pretty', 'production', true)).toBe('json');
  });

  it("takes the Temporal SDK's lines at their level, with their metadata as fields", () => {
    const logs = captureLogs('info');
    const sdk = temporalLogger(logs.logger);
    sdk.debug('too detailed', { sdkComponent: 'worker' });
    sdk.info('Worker state changed', { sdkComponent: 'worker', state: 'RUNNING' });
    sdk.log('WARN', 'Activity failed', { activityType: 'sendDripStep', error: new Error('to +919812345678') });
    expect(logs.lines()).toEqual([
      expect.objectContaining({ level: 30, msg: 'Worker state changed', sdkComponent: 'worker', state: 'RUNNING' }),
      expect.objectContaining({
        level: 40,
        msg: 'Activity failed',
        activityType: 'sendDripStep',
        error: { type: 'Error', message: 'Error: to +••••••••5678' },
      }),
    ]);
  });
});
