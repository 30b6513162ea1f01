import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { findServer } from './require-server';

/** Where browser tests leave screenshots for a person to look at (gitignored; CI keeps them as artifacts). */
export const ARTIFACTS = path.resolve(__dirname, '../artifacts');

type T = {
  teardown(fn: () => unknown): void;
  fail(...args: any[]): unknown;
  skip(...args: any[]): unknown;
};

/**
 * Debian's chromium driven by playwright-core, closed when the test ends. Missing: the test
 * skips loudly (fails under GATEHOUSE_REQUIRE_SERVERS=1), as for nginx and redis-server.
 */
export async function startBrowser(t: T): Promise<Browser | undefined> {
  const bin = findServer(t, 'chromium');
  if (!bin) return undefined;
  const { chromium } = await import('playwright-core');
  // --no-sandbox: CI and this machine run as root, where chromium's sandbox refuses to start.
  const browser = await chromium.launch({ executablePath: bin, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  t.teardown(() => browser.close());
  return browser;
}

/** A fresh context (its own cookies) of a size and colour scheme. */
export async function newPage(
  browser: Browser,
  opts: { width?: number; height?: number; scheme?: 'light' | 'dark' } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
    colorScheme: opts.scheme ?? 'light',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  return { context, page };
}

/** Save a full-page screenshot under test/artifacts/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  // Evaluated over the DevTools protocol, which the page's CSP (no inline script) does not stop.
  await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const result = (await page.evaluate(() =>
    (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ['violations'] }),
  )) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}
