/** Builds the transport asked for by name. */
import type { Transport, TransportApp, TransportName, TransportOptions } from './transport.ts';
import { UwsTransport } from './uws-transport.ts';
import { WsTransport } from './ws-transport.ts';

export function createTransport(name: TransportName, app: TransportApp, options: TransportOptions): Transport {
  return name === 'uws' ? new UwsTransport(app, options) : new WsTransport(app, options);
}
