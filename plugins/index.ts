import type { PluginDefinition } from '../core/plugin-api';
import respond from './respond';
import hashRewrite from './hash-rewrite';
import accelRedirect from './accel-redirect';
import regionRouting from './region-routing';
import webhookIngest from './webhook-ingest';
import jwtAuth from './jwt-auth';
import loadBalancer from './load-balancer';

/**
 * The built-in plugins, listed explicitly. Adding a plugin means a folder under
 * plugins/ and one line here; core never changes.
 */
export const builtinPlugins: readonly PluginDefinition[] = [
  respond,
  regionRouting,
  hashRewrite,
  accelRedirect,
  webhookIngest,
  jwtAuth,
  loadBalancer,
];
