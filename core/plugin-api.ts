/**
 * The plugin API: everything a plugin, built-in or custom, may import from core. Built-in
 * plugins import only this module (a test enforces it), so core's insides can change without
 * touching them; custom plugins get the same through the package (`import … from 'gatehouse'`).
 * @packageDocumentation
 */
export {
  definePlugin,
  MAX_DURATION_MS,
  type ConfigProblem,
  type PluginDefinition,
  type PluginInstance,
  type PluginScope,
  type UpstreamsScope,
  type JsonSchema,
  type ValidateScope,
} from './plugin/contract';
/** The path as routes match it: each segment's `;parameters` dropped. */
export { withoutParams } from './server/request-target';
export { anyCase, FRAMING_HEADERS, HEADER_NAME_PATTERN, HEADER_VALUE_PATTERN } from './plugin/header-syntax';
export { defineErrors, type ErrorDefinition, type PluginErrors } from './plugin/errors';
export type { TaskOptions } from './plugin/tasks';
export { Waker } from './plugin/waker';
export type {
  StateStore,
  KvStore,
  KvEntry,
  KvChange,
  KvPage,
  CasResult,
  SetOptions,
  QueueStore,
  QueueItem,
  QueueStats,
  LeasedItem,
  LeaseRef,
  ItemState,
  EnqueueOptions,
  EnqueueResult,
  DeadLetter,
  ListOptions,
  LockStore,
  Lock,
  Json,
  Unwatch,
} from './store/types';
export type { AdminRoute, AdminRequest, AdminMethod } from './server/admin-router';
export type { Context, Middleware, ForwardOptions } from './pipeline/context';
export { stateKey, type StateKey } from './pipeline/state';
export type { ReadBodyOptions } from './pipeline/body';
export type { PluginMetrics } from './observe/plugin-metrics';
export { GatehouseError, ERRORS, type ErrorCode, type PluginErrorCode } from './errors';
export { PrefixTable, PrefixTableError, buildPrefixTable, parseCidr, type ParsedCidr, type PrefixTableErrorCode } from './net/prefix-table';
export type { Selector, Usable } from './upstream/balance';
export type { Target } from './upstream/target';
export type { UpstreamInfo, TargetInfo } from './upstream/registry';
export type { TargetDeclaration } from './config/types';
