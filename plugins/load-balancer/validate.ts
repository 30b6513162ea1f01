import type { ConfigProblem, ValidateScope } from '../../core/plugin-api';
import type { LoadBalancerOptions } from './schema';

/** What the schema cannot say: the upstream must be declared; pull needs a worker token. */
export function validateOptions(options: Readonly<LoadBalancerOptions>, scope: ValidateScope): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (options.upstream === undefined) {
    if (options.dispatch === 'push')
      problems.push({ path: '', message: 'dispatch: push needs an upstream (the workers tasks are posted to)' });
  } else if (!scope.upstreams.includes(options.upstream))
    problems.push({
      path: '/upstream',
      message: `upstream "${options.upstream}" is not declared (declared: ${scope.upstreams.join(', ') || 'none'})`,
    });
  if (options.dispatch === 'pull' && options.workerToken === undefined)
    problems.push({ path: '/workerToken', message: 'dispatch: pull needs a workerToken (the bearer token workers claim with)' });
  if (options.heartbeatMs >= options.taskTimeoutMs)
    problems.push({
      path: '/heartbeatMs',
      message: `heartbeatMs (${options.heartbeatMs}) must be below taskTimeoutMs (${options.taskTimeoutMs})`,
    });
  return problems;
}
