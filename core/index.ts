/**
 * Gatehouse public API: create a gateway, write plugins.
 * @packageDocumentation
 */
export * from './plugin-api';
export { createGateway, Gateway, TOKENS, type GatewayOptions } from './server/gateway';
export { loadConfig, validateConfig, type LoadedConfig } from './config/load';
export type { GatehouseConfig, RouteConfig, UpstreamConfig } from './config/types';
export { generateCertificate, type CertPair, type CertRequest } from './server/tls';
export { RegistryClient, RegistryClientError, type RegistryClientOptions } from './registry/client';
export type { ServiceInfo, ServiceView, ServiceTarget } from './registry/info';
