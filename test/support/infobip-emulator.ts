import {
  createInfobipEmulator,
  generatedPersonIndexAt,
  type InfobipEmulator,
  type InfobipEmulatorOptions,
} from '../../src/emulators/infobip';

export const TEST_INFOBIP_API_KEY = 'test-infobip-app-key';

export interface StartedInfobipEmulator {
  /** Origin, e.g. `http://127.0.0.1:43127`: the client's base URL; the control surface lives under `/__emulator`. */
  url: string;
  emulator: InfobipEmulator;
  close(): Promise<void>;
}

/** The Infobip emulator on a free port of 127.0.0.1, reached over real HTTP. */
export async function startInfobipEmulator(
  options: Partial<InfobipEmulatorOptions> = {},
): Promise<StartedInfobipEmulator> {
  const emulator = createInfobipEmulator({ apiKey: TEST_INFOBIP_API_KEY, ...options });
  const listening = await emulator.listen(0, '127.0.0.1');
  return { url: listening.url, emulator, close: listening.close };
}

/**
 * The page of generated people (one created a second, see the emulator) a People request reads,
 * counted as page numbers would count it: 1 without a createdAt bound, else the page after the one
 * that ended with the bound's person (pages of `pageSize`, no people added).
 */
export function generatedPeoplePageOf(requestPath: string, people: { anchor: Date; pageSize: number }): number {
  const params = new URL(requestPath, 'http://emulator').searchParams;
  const filter = JSON.parse(params.get('filter') ?? '{}') as { '#and'?: Array<{ '#gte'?: { createdAt?: string } }> };
  const bound = filter['#and']?.find((clause) => clause['#gte']?.createdAt !== undefined)?.['#gte']?.createdAt;
  const withinInstant = Number(params.get('page') ?? 1) - 1;
  if (bound === undefined) return 1 + withinInstant;
  return Math.floor(generatedPersonIndexAt(bound, people.anchor) / people.pageSize) + 2 + withinInstant;
}
