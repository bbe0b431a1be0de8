import type { Express } from 'express';
import { createApp } from '../../src/api/app';
import type { ApiOptions } from '../../src/api/context';

/** The admin API with a secret box, as the settings tests need it (`/settings` is one of its routers). */
export function createAppWithSettings(deps: ApiOptions): Express {
  return createApp(deps);
}
