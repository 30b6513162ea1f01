import { join } from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { axeViolations, newPage, screenshot, startBrowser } from '../helpers/browser';
import { tempDir, until } from '../helpers/gatehouse-process';
import { createGateway } from '../../app';
import { request, startBackend, testLogger } from '../helpers/servers';
import { taskFixture } from './task-fixture';

const TOKEN = 'dashboard-browser-token-0123456789';
const PAGES = ['overview', 'upstreams', 'plugins', 'webhooks', 'tasks', 'registry'] as const;

/** Log in through the form. */
async function logIn(page: Page, admin: string, token = TOKEN): Promise<void> {
  await page.goto(`${admin}/ui/login`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Go to a page of the dashboard by its navigation link (no reload) and wait for its heading. */
async function open(page: Page, id: (typeof PAGES)[number]): Promise<void> {
  await page.click(`nav a[href="#${id}"]`);
  await page.waitForSelector(`nav a[href="#${id}"][aria-current="page"]`);
}

t.test('dashboard in a real browser', async (t) => {
  const browser = await startBrowser(t);
  if (!browser) return;
  const dir = tempDir(t, 'gatehouse-ui-');
  const api = await startBackend(t);
  // A backend with a health endpoint, stopped later to see its target go unhealthy.
  const svc = await startBackend(t, (_req, res) => res.end('ok'));
  // The webhook destination: 410 (dead at once) until told otherwise.
  let hookStatus = 410;
  const delivered: string[] = [];
  const hooks = await startBackend(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (hookStatus === 200) delivered.push(Buffer.concat(chunks).toString());
      res.writeHead(hookStatus).end();
    });
  });
  const gw = await createGateway({
    plugins: [taskFixture],
    logger: testLogger(),
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      plugins: [{ 'task-fixture': {}, id: 'jobs' }],
      store: `sqlite:${join(dir, 'gatehouse.db')}`,
      admin: { token: TOKEN, port: 0 },
      registry: {},
      upstreams: {
        api: { targets: [api.url] },
        svc: { targets: [svc.url], healthCheck: { path: '/health', intervalMs: 200, timeoutMs: 500, unhealthy: 1, healthy: 1 } },
      },
      routes: [
        { name: 'api', match: { path: '/api/' }, upstream: 'api', plugins: [] },
        {
          name: 'render',
          match: { path: '/render/' },
          plugins: [
            { 'load-balancer': { service: 'render', dispatch: 'pull', workerToken: 'render-worker-token-0123456789' }, id: 'render' },
          ],
        },
        { name: 'svc', match: { path: '/svc/' }, upstream: 'svc', plugins: [] },
        {
          name: 'hooks',
          match: { pathExact: '/hooks' },
          plugins: [{ 'webhook-ingest': { preset: 'none', deliver: { url: hooks.url, pollMs: 20 } }, id: 'hooks' }],
        },
      ],
    },
  });
  t.teardown(() => gw.close(100));
  await gw.listen();
  const url = `http://127.0.0.1:${gw.addresses.http!.port}`;
  const admin = `http://127.0.0.1:${gw.addresses.admin!.port}`;
  const bearer = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  await request(`${admin}/registry/services/billing`, {
    method: 'PUT',
    headers: bearer,
    body: JSON.stringify({ targets: ['http://127.0.0.1:7001', { url: 'http://127.0.0.1:7002', weight: 3 }], tags: ['v2'], ttlMs: 600000 }),
  });
  const { page } = await newPage(browser);
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });

  t.test('unauthenticated: /ui redirects to the login form, the API answers 401', async (t) => {
    await page.goto(`${admin}/ui/`);
    t.equal(new URL(page.url()).pathname, '/ui/login');
    const status = await page.evaluate(async () => (await fetch('/ui/api/state')).status);
    t.equal(status, 401);
    t.same(await axeViolations(page), [], 'axe: login page');
    await screenshot(page, 'login-desktop');
  });

  t.test('a wrong token is refused', async (t) => {
    await logIn(page, admin, 'not-the-admin-token-at-all');
    t.equal(new URL(page.url()).pathname, '/ui/login');
    t.match(await page.textContent('.error'), /not the admin token/);
    t.same(await page.context().cookies(), [], 'no cookie');
  });

  t.test('log in', async (t) => {
    await logIn(page, admin);
    t.equal(new URL(page.url()).pathname, '/ui/');
    await page.waitForSelector('#live:text("Live")');
    const [cookie] = await page.context().cookies();
    t.equal(cookie.httpOnly, true);
    t.equal(cookie.sameSite, 'Strict');
    t.equal(cookie.path, '/ui');
    t.equal(await page.evaluate(() => (globalThis as any).document.cookie), '', 'not readable by scripts');
  });

  t.test('a request sent through the proxy appears in the overview chart data within 2 s', async (t) => {
    await open(page, 'overview');
    const sent = Date.now();
    t.equal((await request(`${url}/api/hello`)).status, 200);
    await page.waitForSelector('tr[data-route="api"] td[data-field="requests"]:text("1")', { timeout: 2000 });
    t.ok(Date.now() - sent <= 2000, `shown after ${Date.now() - sent} ms`);
    t.equal(await page.locator('#chart-rps canvas').count(), 1, 'the requests chart is drawn');
    // More traffic for the screenshots: some slow, some failing.
    for (let i = 0; i < 20; i++) await request(`${url}/svc/${i}`);
    for (let i = 0; i < 5; i++) await request(`${url}/nowhere/${i}`);
  });

  t.test('a target goes unhealthy and the upstreams page shows it', async (t) => {
    await open(page, 'upstreams');
    const health = page.locator(`tr[data-target^="${svc.url}"] td[data-field="health"]`);
    await health.locator('text=healthy').waitFor();
    await svc.close();
    await health.locator('text=unhealthy').waitFor({ timeout: 10000 });
    t.pass('unhealthy shown');
  });

  t.test('a dead letter is replayed from the page and delivered', async (t) => {
    t.equal((await request(`${url}/hooks`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'ping-1' })).status, 200);
    await open(page, 'webhooks');
    const row = page.locator('section[data-queue="hooks"] tr[data-message]');
    await row.waitFor({ timeout: 10000 });
    t.match(await row.textContent(), /410/, 'the last error');
    hookStatus = 200;
    await row.getByRole('button', { name: /^Replay/ }).click();
    await until(async () => delivered.length === 1, 10000);
    t.same(delivered, ['ping-1'], 'delivered after the replay');
    await page.waitForSelector('section[data-queue="hooks"] dd[data-field="dead"]:text("0")');
  });

  t.test('CSRF: an action without the token is refused 403', async (t) => {
    const status = await page.evaluate(async () => (await fetch('/ui/api/webhooks/hooks/replay', { method: 'POST' })).status);
    t.equal(status, 403);
  });

  t.test('cancel a task on the tasks page (the task-list admin contract, served by a fixture plugin)', async (t) => {
    await open(page, 'tasks');
    const running = page.locator('section[data-tasks="jobs"] tr[data-task="t-running"]');
    await running.waitFor();
    t.equal(await running.locator('progress').getAttribute('value'), '0.4', 'progress bar');
    t.match(await running.textContent(), /frame 40 of 100/);
    await running.getByRole('button', { name: 'Cancel t-running' }).click();
    await page.waitForSelector('section[data-tasks="jobs"] tr[data-task="t-running"][data-state="canceled"]');
    t.equal(await running.getByRole('button').count(), 0, 'no cancel button on a canceled task');
  });

  t.test('cancel a queued load-balancer task on the tasks page', async (t) => {
    const submitted = await request(`${url}/render/process`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ frames: 100 }),
    });
    t.equal(submitted.status, 200, submitted.body);
    const { uuid } = JSON.parse(submitted.body) as { uuid: string };
    await open(page, 'tasks');
    const row = page.locator(`section[data-tasks="render"] tr[data-task="${uuid}"]`);
    await page.waitForSelector(`section[data-tasks="render"] tr[data-task="${uuid}"][data-state="queued"]`);
    await row.getByRole('button', { name: `Cancel ${uuid}` }).click();
    await page.waitForSelector(`section[data-tasks="render"] tr[data-task="${uuid}"][data-state="canceled"]`);
    const state = await request(`${admin}/plugins/render/tasks/${uuid}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    t.match(JSON.parse(state.body), { state: 'canceled' }, 'canceled in the plugin, as its admin API says');
  });

  t.test('every page: no serious or critical axe violations; screenshots', async (t) => {
    hookStatus = 410; // a dead letter on the queue page while it is checked and photographed
    await request(`${url}/hooks`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'ping-2' });
    for (const id of PAGES) {
      await open(page, id);
      await page.waitForTimeout(300); // one state push, so the page shows data
      t.same(await axeViolations(page), [], `axe: ${id}`);
      await screenshot(page, `${id}-desktop`);
    }
    const registry = await page.textContent('tr[data-service="billing"]');
    t.match(registry, /127\.0\.0\.1:7002/, 'registry targets shown');
    t.match(await page.textContent('tr[data-service="billing"] td[data-field="lease"]'), /min/, 'lease left');
    const cookies = await page.context().cookies();
    for (const scheme of ['light', 'dark'] as const) {
      const small = await newPage(browser, { width: 360, height: 780, scheme });
      await small.context.addCookies(cookies);
      await small.page.goto(`${admin}/ui/`);
      await small.page.waitForSelector('#live:text("Live")');
      for (const id of scheme === 'light' ? PAGES : (['overview'] as const)) {
        await open(small.page, id);
        await small.page.waitForTimeout(300);
        if (scheme === 'dark') t.same(await axeViolations(small.page), [], `axe: ${id}, dark, 360 px`);
        const width = await small.page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth);
        t.ok(width <= 360, `${id} fits 360 px (${width})`);
        await screenshot(small.page, `${id}-360-${scheme}`);
      }
      await small.context.close();
    }
    const dark = await newPage(browser, { scheme: 'dark' });
    await dark.context.addCookies(cookies);
    await dark.page.goto(`${admin}/ui/`);
    await dark.page.waitForSelector('#chart-rps canvas');
    await dark.page.waitForTimeout(1200);
    await screenshot(dark.page, 'overview-desktop-dark');
    await dark.context.close();
  });

  t.test('keyboard: the navigation and buttons are reached with Tab and show focus', async (t) => {
    await open(page, 'overview');
    await page.focus('nav a[href="#overview"]');
    await page.keyboard.press('Tab');
    const next = await page.evaluate(() => (globalThis as any).document.activeElement?.textContent);
    t.equal(next, 'Upstreams', 'Tab goes along the navigation');
    await page.keyboard.press('Enter');
    await page.waitForSelector('nav a[href="#upstreams"][aria-current="page"]');
    const outline = await page.evaluate(() => {
      const g = globalThis as any;
      return g.getComputedStyle(g.document.activeElement).outlineStyle;
    });
    t.not(outline, 'none', 'focus outline visible');
  });

  t.test('logout', async (t) => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/ui\/login$/);
    const status = await page.evaluate(async () => (await fetch('/ui/api/state')).status);
    t.equal(status, 401);
  });

  t.test('no errors in the browser console', async (t) => {
    // The 401s and 403s asked for above are logged by the browser as failed loads.
    t.same(
      consoleErrors.filter((e) => !/status of 40[13]/.test(e)),
      [],
    );
  });
});
