import { createInfobipEmulator, type InfobipEmulator, type InfobipEmulatorOptions } from '../../src/emulators/infobip';

export const TEST_INFOBIP_API_KEY = 'test-infobip-app-key';

export interface StartedInfobipEmulator {
  /** Origin, e.g. `http://127.0.0.1:43127`: the client's base URL; the control surface lives under `/__emulator`. */
  url: string;
  emulator: InfobipEmulator;
  close(): Promise<void>;
}

/** The Infobip emulator on a free port of 127.0.0.1, reached over real HTTP. */
export async function startInfobipEmulator(options: Partial<InfobipEmulatorOptions> = {}): Promise<StartedInfobipEmulator> {
  const emulator = createInfobipEmulator({ apiKey: TEST_INFOBIP_API_KEY, ...options });
  const listening = await emulator.listen(0, '127.0.0.1');
  return { url: listening.url, emulator, close: listening.close };
}
