import { createMetaEmulator, type MetaEmulator, type MetaEmulatorOptions } from '../../src/emulators/meta';

export interface StartedMetaEmulator {
  /** Origin, e.g. `http://127.0.0.1:43127`: the client's Graph base URL; the control surface lives under `/__emulator`. */
  url: string;
  emulator: MetaEmulator;
  close(): Promise<void>;
}

/** The Meta Cloud API emulator on a free port of 127.0.0.1, reached over real HTTP. */
export async function startMetaEmulator(options: Partial<MetaEmulatorOptions> = {}): Promise<StartedMetaEmulator> {
  const emulator = createMetaEmulator({ accessToken: 'test-meta-token', ...options });
  const listening = await emulator.listen(0, '127.0.0.1');
  return { url: listening.url, emulator, close: listening.close };
}
