import { createLogger, type Logger } from '../../src/logging/logger';

/** One JSON line as the logger wrote it. */
export interface LogLine {
  level: number;
  msg?: string;
  reqId?: string;
  [field: string]: unknown;
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export interface CapturedLogs {
  /** The real logger (same redaction, serializers and request ids as a server's), writing to memory. */
  logger: Logger;
  /** Every line so far, as the text the logger wrote (what a log collector would store). */
  text(): string[];
  /** Every line so far, parsed. */
  lines(): LogLine[];
  /** Lines written after `mark()` returned `from`. */
  since(from: number): LogLine[];
  mark(): number;
}

/** The API's logger writing JSON lines into an array, so tests assert on exactly what would be logged. */
export function captureLogs(level: 'debug' | 'info' | 'warn' | 'error' = 'debug'): CapturedLogs {
  const written: string[] = [];
  const logger = createLogger({
    level,
    name: 'test',
    destination: { write: (chunk: string) => void written.push(...chunk.split('\n').filter(Boolean)) },
  });
  const parse = (line: string) => JSON.parse(line) as LogLine;
  return {
    logger,
    text: () => [...written],
    lines: () => written.map(parse),
    since: (from) => written.slice(from).map(parse),
    mark: () => written.length,
  };
}

/** For tests that assert nothing about the log. */
export const silentLogger = (): Logger => createLogger({ level: 'silent' });
