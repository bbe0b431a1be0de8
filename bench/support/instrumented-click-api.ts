/**
 * src/api/server.ts with stopwatches, for `npm run bench:cta-clicks -- --breakdown`: the same app
 * and dependencies, plus timings of where a click (`GET /track/…`) spends its time.
 *
 *   handler   whole request, from Express receiving it to the response being written
 *   keyring   `getCtaKeyring()` (cached; a read and unseal of the MasterData row every 5 s)
 *   txWait    waiting for the in-process SQLite write gate and BEGIN
 *   txHold    BEGIN to COMMIT: claim the decision, record the interaction, update the lead
 *   signal    `client.workflow.signalWithStart` as the API sees it
 *
 * What the handler spends outside these is the token check, the two reads before the transaction
 * (run, flow), the re-read of a repeat, Express and the page. GET /__bench/stats returns and
 * resets them, with the API's event-loop delay.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import express from 'express';
import type { CountryCode } from 'libphonenumber-js';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { ctaKeyringReader } from '../../src/cta/signing-keys';
import { openDb } from '../../src/db/client';
import { createSecretBox } from '../../src/settings/secret-box';
import { sendTaskQueue } from '../../src/shared';
import { summarise } from './stats';
import { timeTransactions } from './time-transactions';

export const CLICK_STAGES = ['handler', 'keyring', 'txWait', 'txHold', 'signal'] as const;
type Stage = (typeof CLICK_STAGES)[number];
const LOOP_SAMPLE_MS = 1;
const delayMs = (histogramNs: number) => Math.max(0, histogramNs / 1e6 - LOOP_SAMPLE_MS);

async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDb(config.DATABASE_URL);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const secretBox = createSecretBox(config.DRIPLINE_SECRET_KEY);

  const fresh = () => new Map<Stage, number[]>(CLICK_STAGES.map((stage) => [stage, []]));
  let samples = fresh();
  const record = (stage: Stage, ms: number) => samples.get(stage)!.push(ms);
  const timed = async <T>(stage: Stage, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      record(stage, performance.now() - t0);
    }
  };

  timeTransactions(db, record);

  const signalWithStart = temporal.workflow.signalWithStart.bind(temporal.workflow);
  temporal.workflow.signalWithStart = ((...args: Parameters<typeof signalWithStart>) =>
    timed('signal', () => signalWithStart(...args))) as typeof signalWithStart;

  const readKeyring = ctaKeyringReader(db, secretBox);
  const getCtaKeyring = () => timed('keyring', readKeyring);

  // The histogram holds the sampling interval plus the delay: the interval is taken off below.
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loopDelay.enable();

  const outer = express();
  outer.get('/__bench/stats', (_req, res) => {
    const current = samples;
    samples = fresh();
    res.json({
      stages: Object.fromEntries(CLICK_STAGES.map((stage) => [stage, summarise(current.get(stage)!)])),
      sums: Object.fromEntries(
        CLICK_STAGES.map((stage) => [stage, current.get(stage)!.reduce((sum, ms) => sum + ms, 0)]),
      ),
      eventLoopDelayMs: {
        p50: delayMs(loopDelay.percentile(50)),
        p99: delayMs(loopDelay.percentile(99)),
        max: delayMs(loopDelay.max),
      },
    });
    loopDelay.reset();
  });
  outer.use('/track', (_req, res, next) => {
    const t0 = performance.now();
    res.once('finish', () => record('handler', performance.now() - t0));
    next();
  });
  outer.use(
    createApp({
      db,
      temporal,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      sendTaskQueue: sendTaskQueue(config.TEMPORAL_TASK_QUEUE, config.MESSAGING_PROVIDER),
      defaultCountry: config.DEFAULT_COUNTRY as CountryCode,
      interaktWebhookSecret: config.INTERAKT_WEBHOOK_SECRET,
      interaktApiKey: config.INTERAKT_API_KEY,
      secretBox,
      getCtaKeyring,
    }),
  );
  const server = outer.listen(config.API_PORT, config.API_HOST, () => {
    console.log(`[api] instrumented for clicks, listening on http://${config.API_HOST}:${config.API_PORT}`);
  });
  const stop = () => {
    server.close(() => {
      void connection
        .close()
        .then(() => db.close())
        .finally(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('[api] fatal:', error instanceof Error ? error.message : error);
  process.exit(1);
});
