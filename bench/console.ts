/**
 * `npm run bench:console -- [--runs 5] [--record]`
 *
 * The console's first load on localhost next to the Temporal UI's, in the same run, on the same
 * machine, in the same browser (Debian's Chromium through playwright-core, a fresh profile per
 * load, so every load is cold: nothing cached). Goal (issue 12): the console ready in ≤ 1 s with
 * ≤ 250 KB transferred compressed.
 *
 * - **Console**: signed in first (the cookie set by POST /session, not timed), then
 *   `/console/` until the Overview has drawn its cards and health and the network is idle.
 * - **Temporal UI**: the dev server's own UI (`temporal server start-dev --ui-port`), its
 *   workflow list, until the network is idle.
 *
 * "Ready" (a time-to-interactive proxy) is when the last response of the load ended or the load
 * event fired, whichever is later, from the navigation's start (the page's own Performance
 * timeline). "Transferred" is the sum of the bytes on the wire (compressed as served, headers
 * included) of every response of the load, from the DevTools protocol.
 */
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { chromium, type APIRequestContext, type Page } from 'playwright-core';
import { createApp } from '../src/api/app';
import { generateApiKey } from '../src/api/auth';
import { openDb } from '../src/db/client';
import { migrate } from '../src/db/migrate';
import { createApiKey } from '../src/db/queries';
import { createLogger } from '../src/logging/logger';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { fixed, markdownTable, percentile } from './support/stats';
import { Children, freePort, NAMESPACE, startDevServer } from './support/system';

const RESULTS_FILE = path.join(REPO_ROOT, 'bench', 'results', 'console.md');
const CHROMIUM = '/usr/bin/chromium';
const GOAL_READY_MS = 1_000;
const GOAL_BYTES = 250 * 1024;

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, record: { type: 'boolean', default: false } },
});

interface Load {
  readyMs: number;
  bytes: number;
  requests: number;
}

async function measure(
  url: string,
  prepare?: (request: APIRequestContext) => Promise<void>,
  ready?: (page: Page) => Promise<void>,
): Promise<Load> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    viewport: { width: 1280, height: 900 },
  });
  try {
    if (prepare) await prepare(context.request);
    const page = context.pages()[0] ?? (await context.newPage());
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    let bytes = 0;
    let requests = 0;
    cdp.on('Network.loadingFinished', (event) => {
      bytes += event.encodedDataLength;
      requests += 1;
    });
    await page.goto(url, { waitUntil: 'load' });
    if (ready) await ready(page);
    await page.waitForLoadState('networkidle');
    const readyMs = (await page.evaluate(`(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const ends = performance.getEntriesByType('resource').map((r) => r.responseEnd);
      return Math.max(nav ? nav.loadEventEnd : 0, ...ends);
    })()`)) as number;
    return { readyMs, bytes, requests };
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

async function main(): Promise<void> {
  const runs = Number(args.runs);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-bench-console-'));
  const children = new Children(dir);
  try {
    const uiPort = await freePort();
    const devServer = await startDevServer(children, dir, { uiPort });
    const uiUrl = `http://127.0.0.1:${uiPort}/namespaces/${NAMESPACE}/workflows`;
    const db = await openDb(`file:${path.join(dir, 'crm.db')}`);
    await migrate(db);
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'bench', keyHash, keyPrefix });
    const connection = await Connection.connect({ address: devServer.address });
    const app = createApp({
      db,
      temporal: new Client({ connection, namespace: NAMESPACE }),
      taskQueue: 'bench-console',
      sendTaskQueue: 'bench-console-sends',
      defaultCountry: 'IN',
      log: createLogger({ level: 'error', name: 'api' }),
      checkResponses: false,
    });
    const server = await new Promise<Server>((resolve) => {
      const started = app.listen(0, '127.0.0.1', () => resolve(started));
    });
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The UI serves once the server is up; wait for its first answer (not timed).
    for (
      let i = 0;
      i < 60 &&
      !(await fetch(uiUrl)
        .then((r) => r.ok)
        .catch(() => false));
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 500));

    const consoleLoads: Load[] = [];
    const temporalLoads: Load[] = [];
    for (let run = 0; run < runs; run++) {
      consoleLoads.push(
        await measure(
          `${apiUrl}/console/`,
          async (request) => {
            const signIn = await request.post(`${apiUrl}/session`, { data: { apiKey: key } });
            if (signIn.status() !== 201) throw new Error(`sign-in answered ${signIn.status()}`);
          },
          async (page) => {
            await page.locator('.health li').first().waitFor();
            await page.locator('.cards .stat').first().waitFor();
          },
        ),
      );
      temporalLoads.push(await measure(uiUrl));
      process.stdout.write(`[bench] run ${run + 1}/${runs} done\n`);
    }
    server.close();
    await connection.close();
    await db.close();

    const row = (name: string, loads: Load[]) => [
      name,
      fixed(median(loads.map((l) => l.readyMs)), 0),
      fixed(Math.min(...loads.map((l) => l.readyMs)), 0),
      fixed(Math.max(...loads.map((l) => l.readyMs)), 0),
      fixed(median(loads.map((l) => l.bytes)) / 1024, 1),
      String(median(loads.map((l) => l.requests))),
    ];
    const consoleReady = median(consoleLoads.map((l) => l.readyMs));
    const consoleBytes = median(consoleLoads.map((l) => l.bytes));
    const cpus = os.cpus();
    const report = [
      `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${cpus.length} × ${cpus[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${await chromiumVersion()}`,
      '',
      `Command: \`npm run bench:console -- --runs ${runs}\``,
      '',
      markdownTable(
        ['first load (cold, median of ' + runs + ')', 'ready ms', 'min ms', 'max ms', 'KB transferred', 'requests'],
        [
          row('Dripline console (/console/, signed in, Overview)', consoleLoads),
          row('Temporal UI (dev server, workflow list)', temporalLoads),
        ],
      ),
      '',
      `- Goal ≤ ${GOAL_READY_MS} ms and ≤ ${GOAL_BYTES / 1024} KB compressed: **${consoleReady <= GOAL_READY_MS && consoleBytes <= GOAL_BYTES ? 'met' : 'NOT met'}** (${fixed(consoleReady, 0)} ms, ${fixed(consoleBytes / 1024, 1)} KB).`,
      '',
    ].join('\n');
    process.stdout.write(`\n${report}\n`);
    if (args.record) {
      if (!fs.existsSync(RESULTS_FILE))
        fs.writeFileSync(
          RESULTS_FILE,
          '# Console first-load bench results\n\nAppended by `npm run bench:console -- --record`; see bench/README.md.\n\n',
        );
      fs.appendFileSync(RESULTS_FILE, `${report}\n`);
      process.stdout.write(`[bench] appended to ${path.relative(REPO_ROOT, RESULTS_FILE)}\n`);
    }
  } finally {
    await children.stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function chromiumVersion(): Promise<string> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    return `Chromium ${browser.version()}`;
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
