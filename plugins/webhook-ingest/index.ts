import { definePlugin, type Context, type QueueStore } from '../../core/plugin-api';
import { adminRoutes } from './admin';
import { Circuit } from './circuit';
import { DeliveryLoop } from './delivery';
import { errors } from './errors';
import { Ingest } from './ingest';
import { webhookMetrics } from './metrics';
import { Poster } from './post';
import { PRESET_VERIFIERS } from './presets';
import { TargetRotation } from './rotation';
import type { Verifier } from './presets/types';
import { schema, type WebhookIngestOptions } from './schema';
import { presetSettings } from './secrets';
import { validateOptions } from './validate';

/**
 * `webhook-ingest`: the Paikea backend's front half. A webhook is verified on its raw bytes,
 * stored with its delivery job in one durable write, and only then answered; a singleton task
 * delivers it to the backend with retries, a circuit and dead letters.
 */
export default definePlugin<WebhookIngestOptions>({
  name: 'webhook-ingest',
  schema,
  errors,
  validate: validateOptions,
  create(options, scope) {
    const store = scope.store;
    const queue = (): QueueStore => store.queue;
    // One queue per declaration, so that two routes' messages never go to each other's backend.
    const queueName = scope.instance;
    const metrics = webhookMetrics(scope.metrics);
    const { deliver } = options;
    const fixed = deliver.url === undefined ? undefined : new URL(deliver.url);
    // An upstream is read at each attempt: its targets are live (a reload, the registry, health).
    const rotation = fixed ? undefined : new TargetRotation(() => scope.upstreams.get(deliver.upstream!));
    const base = (): URL | undefined => fixed ?? rotation!.next();
    const poster = new Poster(base, deliver.timeoutMs, deliver.concurrency);
    const circuit = new Circuit(options.circuit.failures, options.circuit.openMs, (state) => {
      metrics.circuit(state === 'open');
      scope.logger.warn({ destination: fixed?.origin ?? `upstream ${deliver.upstream}`, state }, `delivery circuit ${state}`);
    });
    let verifier: Verifier | undefined;
    const loop = new DeliveryLoop(options, { queue, queueName, poster, circuit, metrics, logger: scope.logger });
    const ingest = new Ingest(options, queue, queueName, () => verifier!, metrics);
    scope.task('deliver', (signal) => loop.run(signal), { singleton: true });
    for (const route of adminRoutes(queue, queueName, () => loop.nudge())) scope.admin(route);

    async function webhookIngest(ctx: Context): Promise<void> {
      await ingest.handle(ctx);
      loop.nudge();
    }

    return {
      handle: webhookIngest,
      start() {
        // Secrets and keys are files: read at start, so a changed file takes effect on reload.
        verifier = PRESET_VERIFIERS[options.preset](presetSettings(options, scope.configDir));
      },
      stop() {
        poster.close();
      },
    };
  },
});
