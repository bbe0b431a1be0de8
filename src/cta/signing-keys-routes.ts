import { Router } from 'express';
import { z } from 'zod';
import { CtaSigningKeyError, listCtaSigningKeys, retireCtaSigningKey, rotateCtaSigningKey } from './signing-keys';
import { CTA_KID_PATTERN } from './tokens';
import type { Db } from '../db/client';
import { secretsUnavailable, type SecretBox } from '../settings/secret-box';
import { conflict, notFound } from '../errors';
import { handle } from '../api/validate';

export interface CtaSigningKeysDeps {
  db: Db;
  secretBox: SecretBox;
}

const KidParams = z.object({
  kid: z.string().regex(CTA_KID_PATTERN, 'a key id as listed by GET /settings/cta-signing-keys'),
});

/**
 * `/settings/cta-signing-keys`: the keys that sign CTA links, by id and age only. Rotate to start
 * signing with a new key (links already sent keep working); retire an old key once no link
 * signed with it should work any more.
 */
export function ctaSigningKeysRouter(deps: CtaSigningKeysDeps): Router {
  const router = Router();

  router.get(
    '/',
    handle({}, async (_input, res) => {
      res.json({ keys: await listCtaSigningKeys(deps.db, deps.secretBox).catch(keyError) });
    }),
  );

  router.post(
    '/rotate',
    handle({}, async (_input, res) => {
      res.status(201).json(await rotateCtaSigningKey(deps.db, deps.secretBox).catch(keyError));
    }),
  );

  router.delete(
    '/:kid',
    handle({ params: KidParams }, async ({ params }, res) => {
      await retireCtaSigningKey(deps.db, deps.secretBox, params.kid).catch(keyError);
      res.status(204).end();
    }),
  );

  return router;
}

function keyError(error: unknown): never {
  if (error instanceof CtaSigningKeyError) {
    if (error.code === 'current_key') throw conflict('current_key', error.message);
    if (error.code === 'unknown_key') throw notFound('CTA signing key');
    throw conflict(error.code, error.message);
  }
  return secretsUnavailable(error);
}
