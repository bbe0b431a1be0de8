import express, { type Express } from 'express';
import { createApp } from '../../src/api/app';
import type { ApiOptions } from '../../src/api/context';
import { requireApiKey } from '../../src/api/auth';
import { errorHandler } from '../../src/api/errors';
import { settingsRouter, type SettingsDeps } from '../../src/settings/routes';
import { silentLogger } from './logs';

/**
 * The admin API with `/settings` in front of it, as app.ts mounts it (`admin.use('/settings',
 * settingsRouter(deps))`), behind the same API key check, JSON parser and error handler.
 */
export function createAppWithSettings(deps: ApiOptions & SettingsDeps): Express {
  const app = express();
  app.use('/settings', requireApiKey(deps.db), express.json({ limit: '2mb' }), settingsRouter(deps));
  app.use(createApp(deps));
  app.use(errorHandler(deps.log ?? silentLogger()));
  return app;
}
