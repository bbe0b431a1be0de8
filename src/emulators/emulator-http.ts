/** Small HTTP helpers the provider EMULATORS share. Development tools only. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express, Request, Response } from 'express';

/** Lower-cased header names; `authorization` keeps only its scheme, so no credential is recorded. */
export function maskHeaders(headers: Request['headers']): Record<string, string> {
  const masked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    masked[name] = name === 'authorization' ? `${text.split(' ')[0] ?? ''} ***`.trim() : text;
  }
  return masked;
}

export function isBodyParseError(error: unknown): boolean {
  return error instanceof Error && 'type' in error && error.type === 'entity.parse.failed';
}

export function describeFetchError(error: unknown, timeoutMs: number): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = cause && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  return code ?? cause?.message ?? error.message;
}

/** Resolves after `ms`, or at once when `signal` aborts (reset or close). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Holds a response for `ms`; true when the client is still there to receive it. */
export function holdResponse(res: Response, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed && !res.writableEnded);
    }, ms);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    res.once('close', onClose);
  });
}

export interface ListeningEmulator {
  url: string;
  close(): Promise<void>;
}

/** Serves an emulator app; `close` first stops the emulator's own pending work (e.g. webhooks). */
export async function listenEmulator(
  app: Express,
  port: number,
  host: string,
  stopPendingWork: () => void,
): Promise<ListeningEmulator> {
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: async () => {
      stopPendingWork();
      // Held (timeout-fault) responses would otherwise keep close() waiting for their timers.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Posts one webhook body as a provider would and reports how the receiver answered; never
 * throws (an unreachable receiver is recorded, not fatal). `stop` aborts it on reset or close.
 */
export async function postWebhookBody(
  url: string,
  rawBody: string,
  headers: Record<string, string>,
  stop: AbortSignal,
  timeoutMs: number,
): Promise<{ responseStatus: number | null; error: string | null }> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: rawBody,
      signal: AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]),
    });
    await response.arrayBuffer().catch(() => undefined);
    return { responseStatus: response.status, error: null };
  } catch (error) {
    return { responseStatus: null, error: describeFetchError(error, timeoutMs) };
  }
}
