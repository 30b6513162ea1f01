import { GatehouseError, type Context } from '../../core/plugin-api';
import { errors } from './errors';
import type { TaskService } from './service';
import { FINAL, sgView, stateAt, TASK_STATES, type TaskRecord, type TaskState } from './task';
import type { WorkerApi } from './worker-api';

/**
 * An SG-shaped error: HTTP 400 with the original's `{status, description}` plus gatehouse's
 * code, so old clients read it as before and new ones can key on the code.
 */
function sgError(ctx: Context, e: GatehouseError): void {
  ctx.json(e.status, { status: e.status, description: e.message, code: e.code });
}

function onlyMethod(ctx: Context, ...allowed: string[]): boolean {
  if (allowed.includes(ctx.method)) return true;
  ctx.fail(new GatehouseError('GH_ERR_METHOD_NOT_ALLOWED', `${ctx.path} takes ${allowed.join(', ')}`));
  return false;
}

/** A list's `limit` (1-1000, default 100). */
export function limitOf(q: URLSearchParams): number {
  return Math.min(1000, Math.max(1, Number(q.get('limit') ?? 100) || 100));
}

/** A list's `state` filter: a modern state name, or none. */
export function stateOf(q: URLSearchParams): TaskState | undefined {
  const s = q.get('state');
  if (s === null || s === '') return undefined;
  if (!(TASK_STATES as readonly string[]).includes(s))
    throw errors.create('BAD_STATE', `Unknown state "${s}": one of ${TASK_STATES.join(', ')}`);
  return s as TaskState;
}

/**
 * The public face under /<service>/: the SG-compatible API (process, annotate, status, cancel),
 * the modern one (tasks), and the pull workers' calls (_worker).
 */
export function publicApi(service: TaskService, workers: WorkerApi, name: string) {
  const base = `/${name}/`;

  async function sgStatus(ctx: Context, cancel: boolean): Promise<void> {
    const uuid = ctx.query.get('uuid');
    if (uuid === null || uuid === '') return sgError(ctx, errors.create('MISSING_UUID', 'The uuid parameter is missing'));
    const r = cancel ? await service.cancel(uuid) : await service.d.records.get(uuid);
    if (!r || r.service !== name) return sgError(ctx, errors.create('UNKNOWN_UUID', `Unknown task uuid ${uuid}`));
    ctx.json(200, sgView(r, Date.now()));
  }

  async function modernAnswer(ctx: Context, status: number, r: TaskRecord, extra: Record<string, string> = {}): Promise<void> {
    const view = await service.view(r, true);
    const waiting = !FINAL.has(stateAt(r, Date.now()));
    ctx.json(status, view, {
      ...extra,
      ...(waiting ? { 'retry-after': String(service.retryAfter(view.eta as number | null)) } : {}),
    });
  }

  async function task(ctx: Context, id: string): Promise<void> {
    if (!onlyMethod(ctx, 'GET', 'DELETE')) return;
    const known = await service.d.records.get(id);
    if (!known || known.service !== name) throw errors.create('TASK_NOT_FOUND', `No task ${id}`);
    if (ctx.method === 'GET') return modernAnswer(ctx, 200, known);
    if (FINAL.has(stateAt(known, Date.now()))) throw errors.create('TASK_FINISHED', `Task ${id} is ${stateAt(known, Date.now())}`);
    const r = (await service.cancel(id)) ?? known;
    return modernAnswer(ctx, 200, r);
  }

  return async function loadBalancer(ctx: Context): Promise<void> {
    if (!ctx.path.startsWith(base)) return sgError(ctx, errors.create('UNKNOWN_SERVICE', `Unknown service: this is ${name}`));
    const rest = ctx.path.slice(base.length);
    switch (rest) {
      case 'process':
      case 'annotate': {
        if (!onlyMethod(ctx, 'POST')) return;
        const { record } = await service.submit(ctx, rest);
        return ctx.json(200, { uuid: record.id });
      }
      case 'status':
      case 'cancel':
        // The original's cancel is a GET; POST is taken too.
        if (!onlyMethod(ctx, 'GET', ...(rest === 'cancel' ? ['POST'] : []))) return;
        return sgStatus(ctx, rest === 'cancel');
      case 'tasks': {
        // No listing here: a task's id is what lets a client read or cancel it (the admin API lists).
        if (!onlyMethod(ctx, 'POST')) return;
        const { record } = await service.submit(ctx, 'tasks');
        return modernAnswer(ctx, 202, record, { location: `${base}tasks/${record.id}` });
      }
    }
    if (rest.startsWith('tasks/') && !rest.slice(6).includes('/')) return task(ctx, rest.slice(6));
    if (rest.startsWith('_worker/')) return workers.handle(ctx, rest.slice(8));
    throw new GatehouseError('GH_ERR_NOT_FOUND', `${name} has no ${ctx.path}`);
  };
}
