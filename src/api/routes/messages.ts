import { Router } from 'express';
import { listMessages } from '../../db/queries';
import type { ApiDeps } from '../app';
import { ListMessagesQuery } from '../schemas/messages';
import { handle } from '../validate';

export function messagesRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get(
    '/',
    handle({ query: ListMessagesQuery }, async ({ query }, res) => {
      res.json(await listMessages(deps.db, query));
    }),
  );
  return router;
}
