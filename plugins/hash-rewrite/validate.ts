import type { ConfigProblem, ValidateScope } from '../../core/plugin-api';
import { compilePattern } from './pattern';
import type { HashRewriteOptions } from './schema';

/** Whether `archive` is given as an http(s) URL rather than an upstream name. */
export function isUrl(archive: string): boolean {
  return /^https?:\/\//i.test(archive);
}

/** What start would refuse that the schema cannot say: an archive that cannot be reached by name or URL, a bad path pattern, TTLs out of order. */
export function validateOptions(options: Readonly<HashRewriteOptions>, scope: ValidateScope): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { mode, archive } = options;
  if (mode === 'stream' && !archive)
    problems.push({ path: '/archive', message: 'mode "stream" needs an archive (an upstream name or an http(s) URL)' });
  if (archive !== undefined && isUrl(archive)) {
    if (!URL.canParse(archive))
      problems.push({ path: '/archive', message: `found ${JSON.stringify(archive)}, expected an http(s) URL that parses` });
  } else if (mode === 'stream' && archive && !scope.upstreams.includes(archive)) {
    problems.push({
      path: '/archive',
      message: `archive "${archive}" is neither an http(s) URL nor a declared upstream (declared: ${scope.upstreams.join(', ') || 'none'})`,
    });
  }
  if (options.cache.negativeTtl > options.cache.ttl) {
    problems.push({
      path: '/cache/negativeTtl',
      message: `cache.negativeTtl (${options.cache.negativeTtl}) must not exceed cache.ttl (${options.cache.ttl})`,
    });
  }
  try {
    compilePattern(options.path);
  } catch (err) {
    problems.push({ path: '/path', message: (err as Error).message });
  }
  return problems;
}
