import { z } from 'zod';
import { CtaSigningKeyError, listCtaSigningKeys, retireCtaSigningKey, rotateCtaSigningKey } from './signing-keys';
import { CTA_KID_PATTERN } from './tokens';
import type { Db } from '../db/client';
import { secretsUnavailable, type SecretBox } from '../settings/secret-box';
import { conflict, notFound } from '../errors';
import { matching, Timestamp } from '../api/schemas';
import { ApiRouter } from '../api/route';

export interface CtaSigningKeysDeps {
  db: Db;
  secretBox: SecretBox;
  checkResponses: boolean;
}

const KidParams = z.object({
  kid: matching(32, CTA_KID_PATTERN, 'a key id as listed by GET /settings/cta-signing-keys'),
});

const SigningKey = z.strictObject({ kid: z.string(), createdAt: Timestamp });
const SigningKeysResponse = z.strictObject({ keys: z.array(SigningKey.extend({ current: z.boolean() })) });
const unavailable = { description: 'DRIPLINE_SECRET_KEY is not set: the keyring cannot be read' };

/**
 * `/settings/cta-signing-keys`: the keys that sign CTA links, by id and age only. Rotate to start
 * signing with a new key (links already sent keep working); retire an old key once no link
 * signed with it should work any more.
 */
export function ctaSigningKeysRouter(deps: CtaSigningKeysDeps): ApiRouter {
  const routes = new ApiRouter({ tag: 'CTA links', checkResponses: deps.checkResponses, writeRole: 'admin' });

  routes.get(
    '/',
    {
      role: 'admin',
      summary: 'The keys that sign CTA links (ids and ages, never secrets)',
      responses: { 200: SigningKeysResponse, 503: unavailable },
    },
    async (_input, res) => {
      res.json({ keys: await listCtaSigningKeys(deps.db, deps.secretBox).catch(keyError) });
    },
  );

  routes.post(
    '/rotate',
    {
      summary: 'Start signing with a new key',
      description: 'Links already sent keep working until their key is retired.',
      responses: { 201: SigningKey, 503: unavailable },
    },
    async (_input, res) => {
      res.status(201).json(await rotateCtaSigningKey(deps.db, deps.secretBox).catch(keyError));
    },
  );

  routes.delete(
    '/:kid',
    {
      summary: 'Retire a key: its links stop working',
      params: KidParams,
      responses: {
        204: { description: 'Retired' },
        409: { description: 'The current key cannot be retired' },
        503: unavailable,
      },
    },
    async ({ params }, res) => {
      await retireCtaSigningKey(deps.db, deps.secretBox, params.kid).catch(keyError);
      res.status(204).end();
    },
  );

  return routes;
}

function keyError(error: unknown): never {
  if (error instanceof CtaSigningKeyError) {
    if (error.code === 'current_key') throw conflict('current_key', error.message);
    if (error.code === 'unknown_key') throw notFound('CTA signing key');
    throw conflict(error.code, error.message);
  }
  return secretsUnavailable(error);
}
