/**
 * src/api/server.ts with stopwatches, for `npm run bench:enrol -- --breakdown`: the same app,
 * config, database and Temporal client, plus timings of where an enrolment call spends its time.
 *
 *   handler    whole request, from Express receiving it to the response being written
 *   txWait     waiting for the in-process SQLite write gate (src/db/sqlite-gate.ts) and BEGIN
 *   txHold     from BEGIN to COMMIT done: the gate is held (no other write of the API can run)
 *   start      `client.workflow.start` as the API sees it
 *
 * GET /__bench/stats returns and resets them, with the API's event-loop delay.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import express from 'express';
import type { CountryCode } from 'libphonenumber-js';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { openDb } from '../../src/db/client';
import { sendTaskQueue } from '../../src/shared';
import { summarise } from './stats';
import { timeTransactions } from './time-transactions';

const STAGES = ['handler', 'txWait', 'txHold', 'start'] as const;
type Stage = (typeof STAGES)[number];

async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDb(config.DATABASE_URL);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });

  let samples = new Map<Stage, number[]>(STAGES.map((stage) => [stage, []]));
  const record = (stage: Stage, ms: number) => samples.get(stage)!.push(ms);

  timeTransactions(db, record);

  const start = temporal.workflow.start.bind(temporal.workflow);
  temporal.workflow.start = (async (...args: Parameters<typeof start>) => {
    const t0 = performance.now();
    try {
      return await start(...args);
    } finally {
      record('start', performance.now() - t0);
    }
  }) as typeof start;

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  const outer = express();
  outer.get('/__bench/stats', (_req, res) => {
    const current = samples;
    samples = new Map<Stage, number[]>(STAGES.map((stage) => [stage, []]));
    res.json({
      stages: Object.fromEntries(STAGES.map((stage) => [stage, summarise(current.get(stage)!)])),
      sums: Object.fromEntries(STAGES.map((stage) => [stage, current.get(stage)!.reduce((sum, ms) => sum + ms, 0)])),
      eventLoopDelayMs: {
        p50: loopDelay.percentile(50) / 1e6,
        p99: loopDelay.percentile(99) / 1e6,
        max: loopDelay.max / 1e6,
      },
    });
    loopDelay.reset();
  });
  outer.use((req, res, next) => {
    const t0 = performance.now();
    res.once('finish', () => {
      if (req.method === 'POST') record('handler', performance.now() - t0);
    });
    next();
  });
  outer.use(
    createApp({
      db,
      temporal,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      sendTaskQueue: sendTaskQueue(config.TEMPORAL_TASK_QUEUE, 'interakt'),
      defaultCountry: config.DEFAULT_COUNTRY as CountryCode,
      interaktWebhookSecret: config.INTERAKT_WEBHOOK_SECRET,
    }),
  );
  const server = outer.listen(config.API_PORT, config.API_HOST, () => {
    console.log(`[api] instrumented, listening on http://${config.API_HOST}:${config.API_PORT}`);
  });
  const stop = () => {
    server.close(() => {
      void connection
        .close()
        .then(() => db.close())
        .finally(() => process.exit(0));
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('[api] fatal:', error instanceof Error ? error.message : error);
  process.exit(1);
});
