import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

/** One file the dashboard serves, read once at startup. */
export interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  /** Versioned vendor files never change under their URL; the app's own are revalidated each time. */
  readonly cacheControl: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The vendor files, exactly: [package, file under its resolved entry's folder, URL name]. */
const VENDOR: readonly [pkg: string, file: string, name: string][] = [
  ['preact', 'preact.mjs', 'preact.mjs'],
  ['htm', 'htm.mjs', 'htm.mjs'],
  ['uplot', 'uPlot.esm.js', 'uplot.mjs'],
  ['uplot', 'uPlot.min.css', 'uplot.css'],
];

/** An in-memory file with its type and ETag. */
export function asset(body: Buffer, file: string, cacheControl: string): Asset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, type: TYPES[path.extname(file)] ?? 'application/octet-stream', etag, cacheControl };
}

/** The version of the package a resolved file belongs to (its nearest package.json with that name). */
function versionOf(pkg: string, file: string): string {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const p = path.join(dir, 'package.json');
    if (!existsSync(p)) continue;
    const json = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
    if (json.name === pkg && json.version) return json.version;
  }
  throw new Error(`no package.json of ${pkg} above ${file}`);
}

/** The browser files' folder: beside this module in a checkout, or the source tree's from dist/. */
function staticDir(): string {
  for (const dir of [path.join(__dirname, 'static'), path.join(__dirname, '../../../core/ui/static')])
    if (existsSync(path.join(dir, 'index.html'))) return dir;
  throw new Error(`the dashboard's files (core/ui/static) are not found from ${__dirname}`);
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, `${prefix}${name}/`));
    else if (TYPES[path.extname(name)]) out.push(`${prefix}${name}`);
  }
  return out;
}

/**
 * Every file the dashboard serves, by URL path under /ui/: the app's own (core/ui/static, under
 * `app/`) and the vendor files resolved from the installed packages (under `vendor/`, their
 * version in the name). Nothing else is served: the map is the allow-list.
 */
export function loadAssets(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const dir = staticDir();
  for (const file of listFiles(dir)) out.set(`app/${file}`, asset(readFileSync(path.join(dir, file)), file, 'no-cache'));
  for (const [pkg, file, name] of VENDOR) {
    const entry = require.resolve(pkg);
    const full = path.join(path.dirname(entry), file);
    const ext = path.extname(name);
    const versioned = `vendor/${path.basename(name, ext)}-${versionOf(pkg, entry)}${ext}`;
    out.set(versioned, asset(readFileSync(full), full, 'public, max-age=31536000, immutable'));
  }
  return out;
}

/** The import names the page uses for vendor files (`preact.mjs` → `vendor/preact-11.2.0.mjs`). */
export function vendorPaths(assets: Map<string, Asset>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of assets.keys()) {
    const m = /^vendor\/(.+)-\d[^/]*?(\.m?js|\.css)$/.exec(key);
    if (m) out[`${m[1]}${m[2]}`] = `/ui/${key}`;
  }
  return out;
}

/** Answer with an asset, or 304 when the client has it. */
export function sendAsset(req: IncomingMessage, res: ServerResponse, a: Asset, headers: Record<string, string>): void {
  const common = { ...headers, etag: a.etag, 'cache-control': a.cacheControl };
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  res.writeHead(200, { ...common, 'content-type': a.type, 'content-length': a.body.length });
  res.end(req.method === 'HEAD' ? undefined : a.body);
}
