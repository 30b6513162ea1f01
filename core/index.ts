/**
 * Gatehouse public API: create a gateway, write plugins.
 * @packageDocumentation
 */
export { createGateway, Gateway, TOKENS, type GatewayOptions } from './server/gateway';
export { definePlugin, type PluginDefinition, type PluginInstance, type PluginScope, type JsonSchema } from './plugin/contract';
export type { Context, Middleware, ForwardOptions } from './pipeline/context';
export { stateKey, type StateKey } from './pipeline/state';
export type { ReadBodyOptions } from './pipeline/body';
export type { PluginMetrics } from './observe/metrics';
export { GatehouseError, ERRORS, type ErrorCode, type PluginErrorCode } from './errors';
export { defineErrors, type ErrorDefinition, type PluginErrors } from './plugin/errors';
export { loadConfig, validateConfig, type LoadedConfig } from './config/load';
export type { GatehouseConfig, RouteConfig, UpstreamConfig } from './config/types';
export { generateCertificate, type CertPair, type CertRequest } from './server/tls';
