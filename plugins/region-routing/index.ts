import { readFileSync, stat, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { GatehouseError, definePlugin, type ConfigProblem, type Context, type ValidateScope } from '../../core/plugin-api';
import { schema, type RegionRoutingOptions } from './options';
import { buildRegionNameMap, buildRegionTable, findRegionByHint, normalizeRegions, parseRegionFile, type Region } from './regions';
import { renderRegionJson, renderRegionXml } from './xml';

/** Everything a lookup needs, swapped whole when the regions file changes. */
interface Tables {
  readonly byIp: ReturnType<typeof buildRegionTable>;
  readonly byName: ReturnType<typeof buildRegionNameMap>;
  readonly regions: readonly Region[];
}

function buildTables(options: RegionRoutingOptions, file: string | undefined): Tables {
  const regions = file ? parseRegionFile(readFileSync(file, 'utf8'), file) : normalizeRegions(options.regions);
  return { regions, byIp: buildRegionTable(regions, file), byName: buildRegionNameMap(regions, file) };
}

/** Check route-mode upstream names against the config, naming what is wrong. */
function checkUpstreams(
  options: RegionRoutingOptions,
  byRegion: ReadonlyMap<string, string>,
  regions: readonly Region[],
  declared: readonly string[],
): void {
  const problems: string[] = [];
  const known = new Set(declared);
  for (const r of regions) {
    const u = byRegion.get(r.name.toLowerCase());
    if (u === undefined) problems.push(`region "${r.name}" has no entry in upstreams`);
    else if (!known.has(u)) problems.push(`region "${r.name}" names unknown upstream "${u}"`);
  }
  const names = new Set(regions.map((r) => r.name.toLowerCase()));
  for (const name of Object.keys(options.upstreams))
    if (!names.has(name.toLowerCase())) problems.push(`upstreams names unknown region "${name}"`);
  if (options.fallback !== undefined && !known.has(options.fallback))
    problems.push(`fallback names unknown upstream "${options.fallback}"`);
  if (problems.length) throw new Error(`route mode: ${problems.join('; ')} (declared upstreams: ${declared.join(', ') || 'none'})`);
}

/**
 * `region-routing`: which region serves a client, by `regionHint` first and then by
 * longest-prefix match of the client IP over every region's IPv4/IPv6 CIDRs.
 */
/** Region names match case-insensitively everywhere, as hints do. */
function upstreamsByRegion(options: RegionRoutingOptions): Map<string, string> {
  return new Map(Object.entries(options.upstreams).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The regions file (or inline regions) parsed and, in route mode, checked against the config's upstreams: what start would refuse. */
function validateOptions(options: Readonly<RegionRoutingOptions>, scope: ValidateScope): ConfigProblem[] {
  const file = options.regionsFile ? resolve(scope.configDir, options.regionsFile) : undefined;
  let tables: Tables;
  try {
    tables = buildTables(options, file);
  } catch (err) {
    return [{ path: file ? '/regionsFile' : '/regions', message: (err as Error).message }];
  }
  try {
    if (options.mode === 'route') checkUpstreams(options, upstreamsByRegion(options), tables.regions, scope.upstreams);
  } catch (err) {
    return [{ path: '/upstreams', message: (err as Error).message }];
  }
  return [];
}

export default definePlugin<RegionRoutingOptions>({
  name: 'region-routing',
  schema,
  validate: validateOptions,
  create(options, scope) {
    const file = options.regionsFile ? resolve(scope.configDir, options.regionsFile) : undefined;
    // Built in start (the file is read there); validate has parsed and checked the same file.
    let tables!: Tables;
    const upstreamOf = upstreamsByRegion(options);
    const requests = scope.metrics.counter({
      name: 'requests_total',
      help: 'Region lookups by region and by how it was found',
      labelNames: ['region', 'source'],
    });
    const reloads = scope.metrics.counter({ name: 'file_reloads_total', help: 'Regions file reloads by result', labelNames: ['result'] });
    const render = { shuffle: options.shuffle, lineBreaks: options.lineBreaks };

    const find = (ctx: Context): Region | undefined => {
      const hinted = findRegionByHint(tables.byName, ctx.query.get(options.hintParam));
      if (hinted) return count(hinted, 'hint');
      const byIp = tables.byIp.lookup(ctx.clientIp);
      return byIp ? count(byIp, 'ip') : count(undefined, 'none');
    };
    const count = (r: Region | undefined, source: string): Region | undefined => {
      requests.inc({ region: r?.name ?? 'none', source });
      return r;
    };

    const respond = function regionInfo(ctx: Context, next: () => Promise<void>): Promise<void> | void {
      if (ctx.path !== options.path) return next();
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD')
        return ctx.send(405, 'Method not allowed', { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      const region = find(ctx);
      if (!region) return ctx.send(404, 'Not found', { 'content-type': 'text/plain; charset=utf-8' });
      if (/\bapplication\/json\b/.test(ctx.req.headers.accept ?? '')) {
        return ctx.send(200, renderRegionJson(region, render), { 'content-type': 'application/json; charset=utf-8' });
      }
      return ctx.send(200, renderRegionXml(region, render), { 'content-type': 'application/xml; charset=utf-8' });
    };

    const route = function regionRoute(ctx: Context, next: () => Promise<void>): Promise<void> {
      const region = find(ctx);
      const upstream = region ? upstreamOf.get(region.name.toLowerCase()) : options.fallback;
      if (!upstream) throw new GatehouseError('GH_ERR_NOT_FOUND', 'No region matches this client');
      ctx.upstream = upstream;
      if (region) ctx.req.headers[options.header] = region.name;
      else delete ctx.req.headers[options.header]; // never trust a client-sent region
      return next();
    };

    // Polled against the mtime of the file actually loaded, so that a change made between
    // the load and the first poll is not missed (fs.watchFile compares poll to poll only).
    let loadedMtime = 0;
    const reload = (mtimeMs: number): void => {
      loadedMtime = mtimeMs; // a bad file is reported once, not on every poll
      try {
        const next = buildTables(options, file);
        if (options.mode === 'route') checkUpstreams(options, upstreamOf, next.regions, scope.upstreams.list());
        tables = next;
        reloads.inc({ result: 'ok' });
        scope.logger.info({ file, regions: next.regions.length }, 'regions file reloaded');
      } catch (err) {
        reloads.inc({ result: 'failed' });
        scope.logger.error({ file, err }, 'regions file rejected; keeping the previous table');
      }
    };
    let timer: NodeJS.Timeout | undefined;
    return {
      handle: options.mode === 'respond' ? respond : route,
      start() {
        if (file) loadedMtime = statSync(file).mtimeMs;
        tables = buildTables(options, file);
        if (options.mode === 'route') checkUpstreams(options, upstreamOf, tables.regions, scope.upstreams.list());
        if (!file || !options.watch) return;
        timer = setInterval(() => {
          stat(file, (err, st) => {
            if (!err && st.mtimeMs !== loadedMtime) reload(st.mtimeMs);
          });
        }, 500);
        timer.unref();
      },
      stop() {
        clearInterval(timer);
      },
    };
  },
});
