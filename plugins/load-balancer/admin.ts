import type { AdminRequest, AdminRoute } from '../../core/plugin-api';
import { limitOf, stateOf } from './api';
import type { Advice, CapacityInputs } from './capacity';
import { errors } from './errors';
import type { TaskService } from './service';
import { FINAL, stateAt } from './task';

/** The last capacity evaluation, as GET /capacity shows it. */
export interface CapacityReport {
  readonly at: number | null;
  readonly inputs: (CapacityInputs & { running: number; slots: number }) | null;
  readonly advice: Advice | null;
}

/**
 * The plugin's admin routes (under /plugins/<instance>): tasks by state, one task with its result,
 * cancel, and the capacity advice with its inputs. The shapes are a contract (a dashboard reads them).
 */
export function adminRoutes(service: TaskService, capacity: () => CapacityReport, refresh: () => Promise<CapacityReport>): AdminRoute[] {
  const notFound = (id: string) => errors.create('TASK_NOT_FOUND', `No task ${id}`);
  const own = async (id: string) => {
    const r = await service.d.records.get(id);
    if (!r || r.service !== service.d.options.service) throw notFound(id);
    return r;
  };
  return [
    {
      method: 'GET',
      path: '/tasks',
      async handle(a: AdminRequest) {
        a.json(200, { tasks: await service.list(stateOf(a.query), limitOf(a.query)) });
      },
    },
    {
      method: 'GET',
      path: '/tasks/:id',
      async handle(a: AdminRequest) {
        a.json(200, await service.view(await own(a.params.id), true));
      },
    },
    {
      method: 'DELETE',
      path: '/tasks/:id',
      async handle(a: AdminRequest) {
        const r = await own(a.params.id);
        if (FINAL.has(stateAt(r, Date.now()))) throw errors.create('TASK_FINISHED', `Task ${r.id} is ${stateAt(r, Date.now())}`);
        a.json(200, await service.view((await service.cancel(r.id)) ?? r, true));
      },
    },
    {
      method: 'GET',
      path: '/capacity',
      async handle(a: AdminRequest) {
        const last = capacity().inputs ? capacity() : await refresh();
        const i = last.inputs!;
        a.json(200, {
          service: service.d.options.service,
          depth: i.depth,
          busy: i.busy,
          idle: i.idle,
          booting: i.booting,
          delta: last.advice?.delta ?? 0,
          inputs: {
            ...i,
            ...service.d.options.capacity,
            dispatch: service.d.options.dispatch,
            raw: last.advice?.raw ?? 0,
            streak: last.advice?.streak ?? 0,
            evaluatedAt: last.at,
            serviceTimeMs: service.d.time.ms === undefined ? null : Math.round(service.d.time.ms),
          },
        });
      },
    },
  ];
}
