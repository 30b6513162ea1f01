import { definePlugin, GatehouseError } from '../../app';

/** A task as the task-list admin contract shows it (the load-balancer plugin's GET /plugins/<instance>/tasks). */
interface FixtureTask {
  id: string;
  service: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'expired';
  progress: number;
  message: string;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  worker: string | null;
  eta: string | null;
}

/**
 * A plugin serving the task-list admin contract from memory (GET /tasks?state=&limit=, DELETE
 * /tasks/:id), so the tasks page is tested against the contract whether or not the
 * load-balancer plugin is built in.
 */
export const taskFixture = definePlugin({
  name: 'task-fixture',
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create(_options, scope) {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const tasks: FixtureTask[] = [
      {
        id: 't-running',
        service: 'render',
        state: 'running',
        progress: 0.4,
        message: 'frame 40 of 100',
        attempts: 1,
        createdAt: iso(now - 60000),
        startedAt: iso(now - 30000),
        finishedAt: null,
        worker: 'http://127.0.0.1:7101',
        eta: iso(now + 45000),
      },
      {
        id: 't-queued',
        service: 'render',
        state: 'queued',
        progress: 0,
        message: '',
        attempts: 0,
        createdAt: iso(now - 5000),
        startedAt: null,
        finishedAt: null,
        worker: null,
        eta: null,
      },
    ];
    scope.admin({
      method: 'GET',
      path: '/tasks',
      handle(a) {
        const state = a.query.get('state');
        const limit = Number(a.query.get('limit') ?? 100);
        a.json(200, { tasks: tasks.filter((t) => !state || t.state === state).slice(0, limit) });
      },
    });
    scope.admin({
      method: 'DELETE',
      path: '/tasks/:id',
      handle(a) {
        const task = tasks.find((t) => t.id === a.params.id);
        if (!task) throw new GatehouseError('GH_ERR_NOT_FOUND', `No task ${a.params.id}`);
        task.state = 'canceled';
        task.finishedAt = new Date().toISOString();
        a.json(200, { id: task.id, state: task.state });
      },
    });
    return {};
  },
});
