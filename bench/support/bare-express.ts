/**
 * The webhook bench's baseline: a bare Express 5 app that parses the same JSON bodies on the same
 * path and answers `{ received: true }`. No signature check, no database. Env: PORT.
 */
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.get('/health', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post('/webhooks/interakt', express.json({ limit: '1mb' }), (_req, res) => {
  res.json({ received: true });
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () =>
  console.log(`[bare-express] listening on ${process.env.PORT}`),
);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
