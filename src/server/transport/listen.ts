/** A node:http server listening, resolved with its port (the one chosen, with port 0), rejected when the address is taken. */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AerError, isAerError } from '../../errors.ts';

export function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Why listening on host:port failed, in words, with the flag that changes it. */
export function listenFailure(error: unknown, host: string, port: number, flag: string): AerError {
  const where = `${host}:${port}`;
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return new AerError('io_error', `${where} is already in use`, { hint: `stop what listens there, or pick another port with ${flag}` });
    case 'EACCES':
      return new AerError('io_error', `no permission to listen on ${where}`, { hint: `ports under 1024 need privileges: pick another with ${flag}` });
    case 'EADDRNOTAVAIL':
      return new AerError('io_error', `${host} is not an address of this machine`, { hint: 'listen on 127.0.0.1, 0.0.0.0 or one of its own addresses' });
  }
  // uWebSockets.js does not say why; its error already names the address.
  return isAerError(error)
    ? new AerError(error.code, error.message, { hint: `is ${where} in use? pick another port with ${flag}` })
    : new AerError('io_error', `cannot listen on ${where}: ${(error as Error).message}`);
}
