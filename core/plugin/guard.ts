import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { GatehouseError, markReported, pluginError } from '../errors';
import type { Middleware } from '../pipeline/context';
import type { RequestContext } from '../pipeline/request-context';
import type { LivePlugin } from './lifecycle';
import type { AdminRoute } from '../server/admin-router';

/** Which plugin call failed: the `hook` label of `gatehouse_plugin_errors_total`. */
export type PluginHook = 'handle' | 'onProxyRequest' | 'onProxyResponse' | 'interceptResponse' | 'start' | 'stop' | 'task' | 'admin';

/** A proxy hook as the forwarder calls it: false when the plugin failed and the request was answered. */
export type GuardedProxyHook<M> = (ctx: RequestContext, message: M) => boolean;

/** Answer a request whose plugin failed (the failure was logged by the guard): see `ctx.fail`. */
export function answerFailure(ctx: RequestContext, e: unknown): void {
  ctx.pluginFailed = true;
  ctx.fail(e);
}

/**
 * Guards every call into a plugin (one per runtime; its wrappers are built once per route, so
 * the request path only pays for a try/catch). A failure becomes `GH_ERR_PLUGIN_FAILED`
 * naming the plugin and its declaration path, is logged once, counted, and answered; the
 * process never sees it. A `GatehouseError` thrown on purpose is the plugin's chosen answer:
 * it keeps its code and status and is not counted as a failure.
 */
export class PluginGuard {
  constructor(
    readonly log: Logger,
    private readonly errors: Counter<'plugin' | 'hook' | 'instance'>,
  ) {}

  /** Count a failure reported elsewhere (start and stop are logged by their callers). */
  count(p: LivePlugin, hook: PluginHook): void {
    this.errors.inc({ plugin: p.name, hook, instance: p.id });
  }

  /**
   * The error a failed call answers with, logged and counted here. A GatehouseError is the
   * plugin's chosen answer (or core's own error passing through next()): the answer's writer,
   * `ctx.fail`, logs it at its status's level.
   */
  failure(p: LivePlugin, hook: PluginHook, route: string, cause: unknown): GatehouseError {
    if (cause instanceof GatehouseError) return cause;
    const e = pluginError('GH_ERR_PLUGIN_FAILED', p.name, cause, p.at);
    markReported(e);
    this.errors.inc({ plugin: p.name, hook, instance: p.id });
    this.log.error({ err: cause, code: e.code, plugin: p.name, at: p.at, hook, route }, e.message);
    return e;
  }

  /** A plugin's handle, named after it for readable stacks. */
  handle(p: LivePlugin, route: string): Middleware | undefined {
    const handle = p.instance.handle;
    if (!handle) return undefined;
    const bound = handle.bind(p.instance);
    const rethrow = (cause: unknown): never => {
      throw this.failure(p, 'handle', route, cause);
    };
    // Not an async function: that would add a promise and an await per plugin per request.
    const guarded: Middleware = (ctx, next) => {
      let result;
      try {
        result = bound(ctx, next);
      } catch (cause) {
        return Promise.reject(this.failure(p, 'handle', route, cause));
      }
      return result instanceof Promise ? result.catch(rethrow) : result;
    };
    Object.defineProperty(guarded, 'name', { value: handle.name || p.name.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase()) });
    return guarded;
  }

  /**
   * onProxyRequest runs inside http-proxy's 'socket' listener, before Node writes the request
   * head: on a failure the upstream request is destroyed there, so the upstream gets none of it.
   */
  proxyRequest(p: LivePlugin, route: string): GuardedProxyHook<ClientRequest> {
    const hook = p.instance.onProxyRequest!.bind(p.instance);
    const fail = (ctx: RequestContext, proxyReq: ClientRequest, cause: unknown): void => {
      proxyReq.destroy();
      if (ctx.res) {
        // Drop the client's body: it was being piped into the request just destroyed.
        ctx.req.unpipe(proxyReq);
        ctx.req.resume();
      }
      answerFailure(ctx, this.failure(p, 'onProxyRequest', route, cause));
    };
    return function onProxyRequest(ctx, proxyReq) {
      try {
        const r: unknown = hook(ctx, proxyReq);
        // The hook is synchronous; a promise it returns anyway is not waited for, but its rejection is no crash.
        if (r instanceof Promise) r.catch((cause: unknown) => fail(ctx, proxyReq, cause));
        return true;
      } catch (cause) {
        fail(ctx, proxyReq, cause);
        return false;
      }
    };
  }

  /** onProxyResponse runs before core writes the head: a failure answers 500 and drops the upstream body. */
  proxyResponse(p: LivePlugin, route: string): GuardedProxyHook<IncomingMessage> {
    const hook = p.instance.onProxyResponse!.bind(p.instance);
    const fail = (ctx: RequestContext, proxyRes: IncomingMessage, cause: unknown): void => {
      proxyRes.resume();
      answerFailure(ctx, this.failure(p, 'onProxyResponse', route, cause));
    };
    return function onProxyResponse(ctx, proxyRes) {
      try {
        const r: unknown = hook(ctx, proxyRes);
        if (r instanceof Promise) r.catch((cause: unknown) => fail(ctx, proxyRes, cause));
        return true;
      } catch (cause) {
        fail(ctx, proxyRes, cause);
        return false;
      }
    };
  }

  /** A plugin's admin endpoint: what it throws is answered by the admin router, logged and counted once here. */
  admin(p: LivePlugin, route: AdminRoute): AdminRoute {
    const handle = route.handle.bind(route);
    const rethrow = (cause: unknown): never => {
      throw this.failure(p, 'admin', route.path, cause);
    };
    return {
      ...route,
      handle(a) {
        try {
          const r = handle(a);
          return r instanceof Promise ? r.catch(rethrow) : r;
        } catch (cause) {
          return rethrow(cause);
        }
      },
    };
  }

  /** interceptResponse may be async; the forwarder answers (or cuts) with the error this throws or rejects with. */
  intercept(p: LivePlugin, route: string): (ctx: RequestContext, proxyRes: IncomingMessage) => boolean | void | Promise<boolean | void> {
    const claim = p.instance.interceptResponse!.bind(p.instance);
    const rethrow = (cause: unknown): never => {
      throw this.failure(p, 'interceptResponse', route, cause);
    };
    return function interceptResponse(ctx, proxyRes) {
      let result;
      try {
        result = claim(ctx, proxyRes);
      } catch (cause) {
        return rethrow(cause);
      }
      return result instanceof Promise ? result.catch(rethrow) : result;
    };
  }
}

/**
 * Run a plugin's start or stop for at most `ms`: resolves true when it finished, false when
 * it timed out (the call itself cannot be cancelled; it is left to settle on its own), and
 * rejects with what it threw.
 */
export function bounded(run: () => unknown, ms: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let result: unknown;
    try {
      result = run();
    } catch (err) {
      reject(err);
      return;
    }
    const timer = setTimeout(() => resolve(false), ms);
    Promise.resolve(result).then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
