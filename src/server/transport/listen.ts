/** A node:http server listening, resolved with its port (the one chosen, with port 0), rejected when the address is taken. */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

export function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
