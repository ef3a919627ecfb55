/**
 * The one Kafka request the development broker's code makes itself: an
 * ApiVersions probe over a raw socket, to tell that a broker answers (not
 * just that its port is open) without a Kafka client.
 *
 * @module
 */
import { createConnection } from 'node:net';
import { HOST } from './config.ts';

/**
 * Whether a Kafka broker answers on `host:port`: sends an ApiVersions (v0)
 * request and checks that the response carries its correlation id and error
 * code 0. False on a refused connection, a timeout or any other answer.
 */
export function kafkaAnswers(port: number, host = HOST, timeoutMs = 2000): Promise<boolean> {
  return new Promise((done) => {
    const correlationId = 0x7d4e0001;
    const clientId = Buffer.from('tidemark-probe');
    const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
    request.writeInt32BE(request.length - 4, 0);
    request.writeInt16BE(18, 4); // ApiVersions
    request.writeInt16BE(0, 6);
    request.writeInt32BE(correlationId, 8);
    request.writeInt16BE(clientId.length, 12);
    clientId.copy(request, 14);
    const socket = createConnection({ port, host });
    let received = Buffer.alloc(0);
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('close', () => done(false));
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 10) return;
      finish(received.readInt32BE(4) === correlationId && received.readInt16BE(8) === 0);
    });
  });
}
