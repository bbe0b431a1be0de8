import {
  createInteraktEmulator,
  INTERAKT_API_PREFIX,
  type InteraktEmulator,
  type InteraktEmulatorOptions,
} from '../../src/emulators/interakt';

export interface StartedInteraktEmulator {
  /** Origin, e.g. `http://127.0.0.1:43127`; the control surface lives under `/__emulator`. */
  url: string;
  /** What a client takes as its Interakt base URL: `url + '/v1/public'`. */
  baseUrl: string;
  emulator: InteraktEmulator;
  close(): Promise<void>;
}

/** The Interakt emulator on a free port of 127.0.0.1, reached over real HTTP. */
export async function startInteraktEmulator(
  options: Partial<InteraktEmulatorOptions> = {},
): Promise<StartedInteraktEmulator> {
  const emulator = createInteraktEmulator({ apiKey: 'test-interakt-key', ...options });
  const listening = await emulator.listen(0, '127.0.0.1');
  return {
    url: listening.url,
    baseUrl: `${listening.url}${INTERAKT_API_PREFIX}`,
    emulator,
    close: listening.close,
  };
}
