/** A server-sent-events client for the live message log (GET /messages/stream). */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** Opens GET /messages/stream and hands back the parsed events as they arrive. */
export async function openStream(url: string, key: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${key}`, ...headers },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = {};
        for (const line of block.split('\n')) {
          const match = /^(id|event|data): ?(.*)$/.exec(line);
          if (match) event[match[1] as keyof SseEvent] = match[2];
        }
        if (event.data !== undefined) events.push(event);
      }
    }
  })();
  return {
    response,
    events,
    close: async () => {
      controller.abort();
      await pump;
    },
  };
}
