/**
 * Serves the console (built from web/ by `npm run console:build`) at /console: hashed assets are
 * cached for a year (their names change with their content), index.html is revalidated every time,
 * and any other path under /console is the single-page app's own route, answered with index.html
 * (deep links). Files are precompressed at build time (.br, .gz) and sent as the browser accepts.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RequestHandler, Response } from 'express';

export const CONSOLE_PATH = '/console';
/**
 * `npm run build` copies the console beside the compiled code (dist/console), so the built API and
 * the Docker image, which hold no web/, serve it; from src/api (tsx) it is web/dist, where
 * `npm run console:build` writes.
 */
const BUILT_CONSOLE_DIR = path.resolve(__dirname, '../console');
export const DEFAULT_CONSOLE_DIR = existsSync(path.join(BUILT_CONSOLE_DIR, 'index.html'))
  ? BUILT_CONSOLE_DIR
  : path.resolve(__dirname, '../../web/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function send(res: Response, file: string, acceptEncoding: string, cacheControl: string): void {
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  const encodings: [string, string][] = [
    ['br', '.br'],
    ['gzip', '.gz'],
  ];
  let chosen = file;
  res.vary('Accept-Encoding');
  for (const [encoding, suffix] of encodings) {
    if (new RegExp(`\\b${encoding}\\b`).test(acceptEncoding) && isFile(file + suffix)) {
      chosen = file + suffix;
      res.set('Content-Encoding', encoding);
      break;
    }
  }
  res.set({
    'Content-Type': type,
    'Cache-Control': cacheControl,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'Referrer-Policy': 'no-referrer',
  });
  res.sendFile(chosen, { headers: {}, lastModified: true, etag: true, acceptRanges: false });
}

/** GET and HEAD under /console; everything else falls through (to a 404 or 405). */
export function serveConsole(dir: string = DEFAULT_CONSOLE_DIR): RequestHandler {
  const root = path.resolve(dir);
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path !== CONSOLE_PATH && !req.path.startsWith(`${CONSOLE_PATH}/`)) return next();
    if (req.path === CONSOLE_PATH) {
      res.redirect(301, `${CONSOLE_PATH}/`);
      return;
    }
    const index = path.join(root, 'index.html');
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('The console is not built: run `npm run console:build`.\n');
      return;
    }
    const relative = req.path.slice(CONSOLE_PATH.length + 1);
    const accept = req.get('accept-encoding') ?? '';
    if (relative.startsWith('assets/')) {
      const file = path.resolve(root, relative);
      if (file.startsWith(root + path.sep) && isFile(file)) {
        send(res, file, accept, 'public, max-age=31536000, immutable');
        return;
      }
      // A missing asset is a 404, never the app (a stale page asking for an old bundle).
      res.status(404).type('text/plain').send('Not found\n');
      return;
    }
    send(res, index, accept, 'no-cache');
  };
}
