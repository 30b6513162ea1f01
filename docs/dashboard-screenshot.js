// Takes docs/dashboard.png: a gateway with two routes under steady traffic for 40 s (some slow
// answers, some 503s), then the dashboard's overview in Debian's chromium. Needs `npm run build`.
//   node docs/dashboard-screenshot.js
const http = require('node:http');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { createGateway } = require('../dist/app');

const TOKEN = 'dashboard-screenshot-token-0123';
const SECONDS = Number(process.env.SHOT_SECONDS ?? 40);

async function main() {
  const backend = http.createServer((req, res) => {
    const slow = req.url.startsWith('/search') ? 20 + Math.random() * 60 : 1 + Math.random() * 6;
    setTimeout(() => res.writeHead(req.url.startsWith('/search') && Math.random() < 0.04 ? 503 : 200).end('ok'), slow);
  });
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  const target = `http://127.0.0.1:${backend.address().port}`;
  const gw = await createGateway({
    config: {
      server: { http: { port: 0, host: '127.0.0.1' } },
      admin: { port: 0, token: TOKEN },
      log: { level: 'warn', accessLog: false },
      upstreams: { app: { targets: [target] } },
      routes: [
        { name: 'search', match: { path: '/search' }, upstream: 'app' },
        { name: 'static', match: { path: '/' }, upstream: 'app' },
      ],
    },
  });
  await gw.listen();
  const url = `http://127.0.0.1:${gw.addresses.http.port}`;
  const admin = `http://127.0.0.1:${gw.addresses.admin.port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const get = (p) => new Promise((r) => http.get(`${url}${p}`, { agent }, (res) => res.resume().on('end', r)).on('error', r));
  const end = Date.now() + SECONDS * 1000;
  const load = (async () => {
    for (let i = 0; Date.now() < end; i++) {
      const rate = 30 + 20 * Math.sin(i / 150);
      void get(i % 3 === 0 ? '/search?q=x' : '/static/app.js');
      await new Promise((r) => setTimeout(r, 1000 / rate));
    }
  })();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 }, colorScheme: 'light' });
  await page.goto(`${admin}/ui/login`);
  await page.getByLabel('Admin token').fill(TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await load;
  await page.waitForTimeout(1500);
  await page.screenshot({ path: path.join(__dirname, 'dashboard.png') });
  await browser.close();
  await gw.close(100);
  backend.close();
  agent.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
