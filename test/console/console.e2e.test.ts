/**
 * The console in a real browser (Debian's Chromium driven by playwright-core) against the real
 * API, a worker process, a Temporal dev server and the provider emulators: what an admin and an
 * agent do in a day, step by step, in one browser session. Screenshots of the main pages go to
 * docs/screenshots/ (the README shows them).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../temporal/paths.cjs';
import { apiClient } from '../support/api';
import { startConsoleStack, type ConsoleStack } from '../support/console-stack';
import { nextPhone } from '../support/drip-harness';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots');
/** Long enough for a workflow to act on a signal and the page's own polling (5 s) to show it. */
const UI_WAIT_MS = 45_000;

describe('the console in a browser', () => {
  let stack: ConsoleStack;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let asAdmin: ReturnType<typeof apiClient>;
  let sequenceUrl: string;
  let leadId: number;
  let assignmentId: number;

  const url = (pathname: string) => `${stack.api.url}/console${pathname}`;
  const shot = (name: string, target: Page = page) =>
    target.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    stack = await startConsoleStack();
    asAdmin = apiClient(stack.api.url, stack.adminKey);
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-chromium-'));
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
      viewport: { width: 1280, height: 900 },
    });
    context.setDefaultTimeout(UI_WAIT_MS);
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    await stack?.close();
  });

  async function signIn(key: string) {
    await page.goto(url('/'));
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('refuses a wrong key with a clear message, then signs in with an admin key and keeps no key in the browser', async () => {
    await signIn('dl_this-is-not-a-key');
    await page.getByText('That key was not accepted').waitFor();
    await signIn(stack.adminKey);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('Database').waitFor();
    const cookies = await context.cookies(stack.api.url);
    const session = cookies.find((c) => c.name === 'dripline_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(session!.expires).toBeGreaterThan(Date.now() / 1000);
    // The page's storage, read in the browser (the server's types know no DOM).
    const stored = await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })');
    expect(stored).not.toContain(stack.adminKey);
    expect(cookies.map((c) => c.value).join()).not.toContain(stack.adminKey);
  });

  it('syncs templates from the provider in Message Master and previews one with sample values', async () => {
    await page.getByRole('link', { name: 'Message Master' }).click();
    await page.getByRole('button', { name: 'Sync templates' }).click();
    await page.getByText(/Sync completed/).waitFor();
    await page.getByRole('link', { name: 'welcome_message' }).click();
    await page.getByLabel('Sample value for {{1}}').fill('Asha');
    await page.getByLabel('Preview of welcome_message').getByText(/Asha/).waitFor();
    expect(page.url()).toMatch(/\/console\/templates\?.*id=\d+/);
    await shot('message-master');
  });

  it('creates a two-step sequence in the step editor', async () => {
    await page.goto(url('/drips/new'));
    await page.getByLabel('Name', { exact: true }).fill('Console welcome series');
    const first = page.locator('fieldset[data-step="0"]');
    await first.getByLabel('Template').selectOption('drip_day_1');
    await first.getByLabel('Delay after enrolment').fill('0');
    await page.getByRole('button', { name: 'Add step' }).click();
    const second = page.locator('fieldset[data-step="1"]');
    await second.getByLabel('Template').selectOption('drip_day_2');
    await second.getByLabel('Delay after the previous step').fill('1');
    await second.getByLabel('Unit').selectOption({ label: 'days' });
    await second.getByLabel('{{1}} from').selectOption('field:firstName');
    await shot('drip-editor');
    await page.getByRole('button', { name: 'Create sequence' }).click();
    await page.waitForURL(/\/console\/drips\/\d+$/);
    sequenceUrl = page.url();
    await page.getByRole('heading', { name: /Console welcome series/ }).waitFor();
    const id = Number(sequenceUrl.split('/').pop());
    const saved = await asAdmin('GET', `/sequences/${id}`);
    expect(saved.body.steps.map((s: any) => [s.templateName, s.delaySeconds])).toEqual([
      ['drip_day_1', 0],
      ['drip_day_2', 86_400],
    ]);
    expect(saved.body.steps[1].variables).toEqual({ body: [{ field: 'firstName' }] });
  });

  it("assigns it to a lead, shows the skip reason of a second try, and the lead's page shows the message's ticks change live", async () => {
    const lead = await asAdmin('POST', '/leads', { name: 'Asha Rao', firstName: 'Asha', phone: nextPhone() });
    expect(lead.status).toBe(201);
    leadId = lead.body.id;
    // The lead's page is open before anything is sent: whatever appears there came over the live log.
    const leadPage = await context.newPage();
    await leadPage.goto(url(`/leads/${leadId}`));
    await leadPage.getByText('Live: updates appear as they happen.').waitFor();

    await page.goto(sequenceUrl);
    await page.getByLabel('Lead ids').fill(String(leadId));
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByText('Started 1, skipped 0.').waitFor();
    // Again, with a lead that does not exist: nobody is started, and each skip says why.
    await page.getByLabel('Lead ids').fill(`${leadId}, 2000000`);
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByText('Started 0, skipped 2.').waitFor();
    await page.getByRole('cell', { name: 'already assigned' }).waitFor();
    await page.getByRole('cell', { name: 'lead not found' }).waitFor();

    await leadPage.locator('.msg-outgoing[data-status="delivered"]').waitFor();
    await leadPage.locator('.msg-outgoing[data-status="read"]').waitFor();
    await leadPage.getByLabel('status read').waitFor();
    await shot('lead', leadPage);
    await leadPage.close();
  });

  it('pauses and resumes the assignment from the sequence page', async () => {
    const assignments = await asAdmin('GET', `/assignments?leadId=${leadId}`);
    assignmentId = assignments.body.items[0].id;
    await page.goto(sequenceUrl);
    await page.getByRole('button', { name: `Pause assignment ${assignmentId}` }).click();
    await page.getByRole('button', { name: `Resume assignment ${assignmentId}` }).waitFor();
    expect((await asAdmin('GET', `/assignments/${assignmentId}`)).body.status).toBe('paused');
    await shot('sequence');
    await page.getByRole('button', { name: `Resume assignment ${assignmentId}` }).click();
    await page.getByRole('button', { name: `Pause assignment ${assignmentId}` }).waitFor();
    expect((await asAdmin('GET', `/assignments/${assignmentId}`)).body.status).toBe('active');
  });

  it('asks before cancelling an assignment, and keeps it when told to', async () => {
    await page.goto(url(`/assignments/${assignmentId}`));
    await page.getByRole('button', { name: `Cancel assignment ${assignmentId}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Keep it' }).click();
    expect((await asAdmin('GET', `/assignments/${assignmentId}`)).body.status).toBe('active');
  });

  it('processes an unprocessed IVR call, and the interested click arrives on the lead page', async () => {
    const flow = await asAdmin('POST', '/cta/flows', {
      name: 'Palm Grove launch',
      projectName: 'Palm Grove Residences',
      templateName: 'project_update_template',
      brochureTemplateName: 'project_brochure',
      brochureUrl: 'https://example.com/palm-grove.pdf',
      brochureFileName: 'Palm Grove.pdf',
      ivrNumber: '1800 123 4567',
      reminderAfterSeconds: 3600,
      closeAfterSeconds: 3600,
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const caller = nextPhone();
    const call = await asAdmin('POST', '/ivr/calls', {
      callId: 'console-call-1',
      callerNumber: caller,
      calledNumber: '1800 123 4567',
      calledAt: new Date().toISOString(),
    });
    expect(call.status).toBe(201);

    await page.goto(url('/interactive'));
    await page.getByRole('cell', { name: 'console-call-1' }).waitFor();
    await page.getByRole('button', { name: 'Process' }).click();
    await page.getByText(/Processed 1, skipped 0/).waitFor();

    let interestedUrl: string | undefined;
    for (let i = 0; i < 120 && !interestedUrl; i++) {
      const sent = stack.interakt.emulator.state.acceptedMessages();
      interestedUrl = sent
        .flatMap((m) => Object.values(m.buttonUrls ?? {}))
        .find((link) => link.includes(`/track/${call.body.leadId}?`) && link.includes('action=interested'));
      if (!interestedUrl) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(interestedUrl).toBeDefined();
    // The lead taps "Interested" on their phone.
    expect((await fetch(interestedUrl!)).status).toBe(200);

    await page.goto(url(`/leads/${call.body.leadId}`));
    await page.locator('section', { hasText: 'CTA runs' }).locator('.badge-interested').first().waitFor();
    await page.goto(url('/interactive'));
    await page.getByRole('heading', { name: 'Palm Grove launch' }).waitFor();
    await shot('interactive');
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('link', { name: 'running drips' }).waitFor();
    await page.getByText('Last template sync: completed').waitFor();
    await page.getByRole('link', { name: 'reply rate' }).waitFor();
    await page.getByRole('img', { name: 'Sent, delivered and read per day over 30 days' }).waitFor();
    await shot('overview');
  });

  it('starts an Infobip dry run and reads its preview', async () => {
    await page.goto(url('/infobip'));
    await page.getByLabel('Source').selectOption('people');
    expect(await page.getByLabel('Dry run (change nothing, show a preview)').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Start sync' }).click();
    await page.waitForURL(/\/console\/infobip\/runs\/\d+$/);
    await page.getByRole('heading', { name: /Sync run #\d+ completed/ }).waitFor();
    await page.getByRole('heading', { name: /Dry-run preview \(\d+ changes\)/ }).waitFor();
    const runId = Number(page.url().split('/').pop());
    const run = await asAdmin('GET', `/sync/infobip/runs/${runId}`);
    expect(run.body.preview.length, JSON.stringify({ ...run.body, preview: undefined })).toBeGreaterThan(0);
    expect(await page.getByRole('row').count()).toBeGreaterThan(1);
    await shot('infobip-run');
  });

  it('imports leads from a CSV on the Leads page and reports each rejected row by its line and reason', async () => {
    const csv = [
      'phone,name,source',
      `${nextPhone()},Kiran Das,console-import`,
      `${nextPhone()},Lata Menon,console-import`,
      'not-a-phone,Bad Row,console-import',
    ].join('\n');
    await page.goto(url('/leads'));
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'leads.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByText('Imported 3 rows: 2 created, 0 updated, 0 merged duplicates, 1 rejected.').waitFor();
    const rejected = page.getByRole('table', { name: 'Rejected rows' });
    await rejected.getByRole('cell', { name: '4', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Kiran Das' }).waitFor();
    await shot('leads-import');
  });

  it('builds a segment with a live count, saves it and assigns the drip to its members', async () => {
    await page.goto(url('/segments'));
    await page.getByLabel('Sources').fill('console-import');
    await page.getByText('2 leads match').waitFor();
    expect(page.url()).toMatch(/sources=console-import/);
    await page.getByRole('cell', { name: 'Lata Menon' }).waitFor();
    await page.getByLabel('Segment name').fill('Imported from the console');
    await shot('segments');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.waitForURL(/\/console\/segments\/\d+$/);
    await page.getByRole('heading', { name: 'Imported from the console' }).waitFor();
    await page.getByLabel('Drip sequence').selectOption({ label: 'Console welcome series' });
    await page.getByRole('button', { name: 'Assign to members' }).click();
    await page.getByText('Started 2, skipped 0.').waitFor();
    const sequenceId = Number(sequenceUrl.split('/').pop());
    const assignments = await asAdmin('GET', `/assignments?sequenceId=${sequenceId}`);
    expect(assignments.body.total).toBe(3);
    await shot('segment');
  });

  it('shows the drip funnel per step on the sequence page', async () => {
    await page.goto(sequenceUrl);
    const funnel = page.getByRole('table', { name: /Drip funnel: 3 assignments/ });
    await funnel.getByRole('cell', { name: 'drip_day_1' }).waitFor();
    await shot('sequence-funnel');
  });

  it('runs a campaign to a list of leads, shows its progress, and its report drills down to the recipients', async () => {
    const first = await asAdmin('POST', '/leads', { name: 'Meera Nair', phone: nextPhone() });
    const second = await asAdmin('POST', '/leads', { name: 'Ravi Iyer', phone: nextPhone() });
    expect([first.status, second.status]).toEqual([201, 201]);
    await page.goto(url('/campaigns/new'));
    await page.getByLabel('Name', { exact: true }).fill('Console festival offer');
    await page.getByLabel('Template').selectOption('drip_day_1');
    await page.getByLabel('{{1}} from').selectOption('field:name');
    await page.getByLabel('Audience').selectOption('list');
    await page.getByLabel('Lead ids').fill(`${first.body.id}, ${second.body.id}`);
    await page.getByLabel('When').selectOption('now');
    await shot('campaign-new');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.waitForURL(/\/console\/campaigns\/\d+$/);
    const campaignId = Number(page.url().split('/').pop());
    // The page polls while the campaign runs: the badge turns to completed without a reload.
    await page.locator('h1 .badge-completed').waitFor();
    await page.getByText('2 of 2 settled').waitFor();
    await page.getByRole('img', { name: /recipients 2, sent 2/ }).waitFor();
    await page.getByRole('link', { name: 'Export recipients (CSV)' }).waitFor();
    await page.getByLabel('Show').selectOption('sent');
    await page.waitForURL(/outcome=sent/);
    await page.getByRole('link', { name: `#${second.body.id}` }).waitFor();
    await shot('campaign-report');
    const report = await asAdmin('GET', `/campaigns/${campaignId}/report`);
    expect(report.body).toMatchObject({ totalRecipients: 2, sent: 2 });
    await page.goto(url('/campaigns'));
    await page.getByRole('link', { name: 'Console festival offer' }).waitFor();
    await shot('campaigns');
  });

  it('shows the message log, the settings with the provider key masked, and the audit log of what was changed', async () => {
    await page.goto(url('/messages'));
    await page.getByRole('cell', { name: 'drip_day_1' }).first().waitFor();
    await shot('message-log');
    await page.goto(url('/settings'));
    await page.getByRole('heading', { name: 'Interakt' }).waitFor();
    expect(await page.getByLabel('API key').inputValue()).toBe('');
    await shot('settings');
    await page.goto(url('/audit'));
    await page.getByRole('cell', { name: 'POST /sequences', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'POST /assignments/:id/:action' }).first().waitFor();
    await shot('audit');
  });

  it("sets the delivery rules on the settings page; a window ending before it starts, an unknown time zone or a malformed quiet date shows the API's message beside its field and changes nothing", async () => {
    await page.goto(url('/settings'));
    const form = page.getByRole('form', { name: 'Delivery rules' });
    await form.getByLabel('Send only inside a window').check();
    for (const day of ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']) await form.getByLabel(day, { exact: true }).check();
    await form.getByLabel('Sun', { exact: true }).uncheck();
    await form.getByLabel('From', { exact: true }).fill('09:00');
    await form.getByLabel('To', { exact: true }).fill('20:00');
    await form.getByLabel('Cap marketing messages per lead').check();
    await form.getByLabel('At most', { exact: true }).fill('2');
    await form.getByLabel('Messages per', { exact: true }).fill('24');
    await form.getByLabel('Unit', { exact: true }).selectOption({ label: 'hours' });
    await form.getByRole('button', { name: 'Save delivery rules' }).click();
    await form.getByText('Saved.').waitFor();
    const saved = (await asAdmin('GET', '/settings/delivery')).body;
    expect(saved).toMatchObject({
      window: { days: [1, 2, 3, 4, 5, 6], start: '09:00', end: '20:00' },
      frequencyCap: { max: 2, periodSeconds: 86400 },
    });

    await page.reload();
    await form.getByLabel('Sat', { exact: true }).waitFor();
    expect(await form.getByLabel('Sat', { exact: true }).isChecked()).toBe(true);
    expect(await form.getByLabel('Sun', { exact: true }).isChecked()).toBe(false);
    expect(await form.getByLabel('From', { exact: true }).inputValue()).toBe('09:00');
    expect(await form.getByLabel('To', { exact: true }).inputValue()).toBe('20:00');
    expect(await form.getByLabel('At most', { exact: true }).inputValue()).toBe('2');
    // 24 hours comes back as the whole unit it is.
    expect(await form.getByLabel('Messages per', { exact: true }).inputValue()).toBe('1');
    expect(await form.getByLabel('Unit', { exact: true }).inputValue()).toBe('86400');

    await form.getByLabel('Default time zone').fill('Mars/Olympus');
    await form.getByLabel('From', { exact: true }).fill('20:00');
    await form.getByLabel('To', { exact: true }).fill('09:00');
    await form.getByLabel('Quiet dates').fill('2026-13-01');
    await form.getByRole('button', { name: 'Save delivery rules' }).click();
    const zoneError = form.locator('[name="defaultTimeZone"] + .field-error');
    const windowError = form.locator('fieldset[name="window"] + .field-error');
    await zoneError.waitFor();
    const refused = await asAdmin('PUT', '/settings/delivery', {
      defaultTimeZone: 'Mars/Olympus',
      window: { days: [1, 2, 3, 4, 5, 6], start: '20:00', end: '09:00' },
      quietDates: ['2026-13-01'],
    });
    expect(refused.status).toBe(400);
    const messageAt = (at: string) =>
      (refused.body.error.issues as { path: string; message: string }[]).find((issue) => issue.path === at)?.message;
    expect(await zoneError.textContent()).toBe(messageAt('defaultTimeZone'));
    expect(await windowError.textContent()).toBe(messageAt('window'));
    // An issue about one entry of a list lands on the list, saying which entry.
    expect(await form.locator('[name="quietDates"] + .field-error').textContent()).toBe(
      `entry 1: ${messageAt('quietDates.0')}`,
    );
    expect(await form.getByLabel('Default time zone').getAttribute('aria-invalid')).toBe('true');
    expect((await asAdmin('GET', '/settings/delivery')).body).toEqual(saved);
    await form.screenshot({ path: path.join(SCREENSHOTS, 'delivery-rules.png') });
  });

  it('fits a phone-width screen behind a menu button', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(url('/'));
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.getByRole('link', { name: 'Drips', exact: true }).isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Drips', exact: true }).click();
    await page.getByRole('heading', { name: 'Drip sequences' }).waitFor();
    await shot('drips-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('signs out, after which the API refuses the old cookie and the console shows only the sign-in', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('Signed out.').waitFor();
    expect((await page.request.get(`${stack.api.url}/leads`)).status()).toBe(401);
    await page.goto(url('/leads'));
    await page.getByLabel('API key').waitFor();
    expect(await page.getByRole('heading', { name: 'Leads' }).count()).toBe(0);
  });

  it('signs an agent in without settings: hidden in the navigation, refused by the page and by the API', async () => {
    await signIn(stack.agentKey);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    await page.goto(url('/settings'));
    await page.getByText('This page needs the admin role').waitFor();
    expect((await page.request.get(`${stack.api.url}/settings/interakt`)).status()).toBe(403);
    expect((await page.request.get(`${stack.api.url}/settings/delivery`)).status()).toBe(403);
    await page.goto(url('/templates'));
    await page.getByRole('heading', { name: 'Message Master' }).waitFor();
    expect(await page.getByRole('button', { name: 'Sync templates' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Campaigns', exact: true }).click();
    await page.getByRole('link', { name: 'Console festival offer' }).waitFor();
    expect(await page.getByRole('link', { name: 'New campaign' }).count()).toBe(1);
  });
});
