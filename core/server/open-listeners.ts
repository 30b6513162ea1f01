import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load';
import type { ClusterRole } from './cluster-role';
import type { Gateway } from './gateway';
import {
  applyServerLimits,
  clientErrorHandler,
  listen,
  redirectToHttps,
  refuseConnect,
  serverOptions,
  trackConnections,
} from './listeners';
import { httpsCertificate } from './tls';

/** What {@link openListeners} needs of its gateway, and fills in. */
export interface ListenerHost {
  readonly gw: Gateway;
  readonly loaded: LoadedConfig;
  readonly role: ClusterRole;
  readonly logger: Logger;
  readonly servers: { http?: http.Server; https?: https.Server; admin?: http.Server };
  readonly addresses: { http?: AddressInfo; https?: AddressInfo; admin?: AddressInfo };
  onRequest(req: http.IncomingMessage, res: http.ServerResponse, secure: boolean): void;
  onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void;
}

/**
 * Open the listeners the config declares, in order: https, http (or its redirect to https),
 * then admin; each server goes into `h.servers` as it is made and its address into
 * `h.addresses` once bound, so that a failure leaves the ones opened to be closed.
 */
export async function openListeners(h: ListenerHost): Promise<void> {
  const { server, admin } = h.loaded.config;
  if (server.https && h.role.servesProxy) {
    const tls = server.https;
    const s = https.createServer({ ...(await httpsCertificate(h.loaded.dir, tls)), ...serverOptions(server) }, (req, res) =>
      h.onRequest(req, res, true),
    );
    h.servers.https = s;
    wire(h, s, true);
    h.addresses.https = await listen(s, tls.port, tls.host, 'https');
  }
  if (server.http && h.role.servesProxy) {
    const redirect = server.http.redirectToHttps && h.addresses.https;
    const s = http.createServer(
      serverOptions(server),
      redirect ? (req, res) => redirectToHttps(req, res, h.addresses.https!.port) : (req, res) => h.onRequest(req, res, false),
    );
    h.servers.http = s;
    wire(h, s, false);
    h.addresses.http = await listen(s, server.http.port, server.http.host, 'http');
  }
  const adminServer = admin && h.role.adminServer(h.gw, admin.token);
  if (admin && adminServer) {
    h.servers.admin = adminServer;
    trackConnections(adminServer, 'connection');
    h.addresses.admin = await listen(adminServer, admin.port, admin.host, 'admin');
  }
}

function wire(h: ListenerHost, s: http.Server, secure: boolean): void {
  applyServerLimits(s, h.loaded.config.server);
  trackConnections(s, secure ? 'secureConnection' : 'connection');
  s.on('clientError', clientErrorHandler(h.logger));
  s.on('connect', refuseConnect);
  s.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => h.onUpgrade(req, socket, head, secure));
}
