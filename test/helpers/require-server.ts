import { execFileSync } from 'node:child_process';

/**
 * Find a real server binary (nginx, redis-server). Missing: the test is skipped
 * with a loud message, unless GATEHOUSE_REQUIRE_SERVERS=1 (CI), where it fails.
 */
export function findServer(
  t: { fail(m: string, ...rest: any[]): unknown; skip(m: string, ...rest: any[]): unknown },
  binary: string,
): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
    try {
      execFileSync('test', ['-x', `${dir}/${binary}`]);
      return `${dir}/${binary}`;
    } catch {
      /* keep looking */
    }
  }
  const msg = `!!! ${binary} is not installed: this test needs the real server (apt-get install -y ${binary === 'redis-server' ? 'redis-server' : binary})`;
  if (process.env.GATEHOUSE_REQUIRE_SERVERS === '1') t.fail(`${msg}; GATEHOUSE_REQUIRE_SERVERS=1 forbids skipping`);
  else {
    console.error(msg);
    t.skip(msg);
  }
  return undefined;
}
