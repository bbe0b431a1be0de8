/**
 * The load balancer in front of the API replicas, as production has one: round-robin over the
 * replicas, and a request whose replica refuses the connection (it died, or is restarting) goes
 * to the next one, as nginx's `proxy_next_upstream error` does. For most requests only a refused
 * connection is retried: once a request has reached a replica it may have had an effect, so a
 * failure after that goes back to the caller. Provider webhooks (`POST /webhooks/...`) are also
 * retried when the replica died before answering: ingestion is idempotent (a repeat is stored
 * once and answered `duplicate`), and the real providers redeliver a webhook that got no answer,
 * which the emulator does not do, so the balancer stands in for that redelivery.
 */
import http from 'node:http';

/** Every replica once, then a few more tries half a second apart (a replica restarting). */
const MAX_ATTEMPTS = 10;

export interface Balancer {
  url: string;
  /** Requests each replica answered, by base URL. */
  counts(): Map<string, number>;
  close(): Promise<void>;
}

export async function startBalancer(upstreams: readonly string[]): Promise<Balancer> {
  const counts = new Map(upstreams.map((upstream) => [upstream, 0]));
  let next = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const first = next++ % upstreams.length;
      const redeliverable = req.method === 'POST' && (req.url ?? '').startsWith('/webhooks/');
      const attempt = (tried: number): void => {
        const upstream = upstreams[(first + tried) % upstreams.length]!;
        const target = new URL(req.url ?? '/', upstream);
        const forward = http.request(
          {
            agent,
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: target.pathname + target.search,
            headers: req.headers,
          },
          (upstreamRes) => {
            counts.set(upstream, (counts.get(upstream) ?? 0) + 1);
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
            upstreamRes.pipe(res);
          },
        );
        forward.on('error', (error: NodeJS.ErrnoException) => {
          const retry = error.code === 'ECONNREFUSED' || (redeliverable && !res.headersSent);
          if (retry && tried + 1 < MAX_ATTEMPTS) {
            setTimeout(() => attempt(tried + 1), tried < upstreams.length ? 0 : 500);
            return;
          }
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`bad gateway: ${error.message}`);
        });
        forward.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('balancer has no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    counts: () => new Map(counts),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
