/**
 * An SMTP server in its own process that accepts every message and counts it, so the
 * sink does not compete for the event loop of what is being measured. Speaks to its
 * parent over IPC: sends `{ port }` once listening, answers `count` with `{ count }`.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

let count = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  maxClients: 1000,
  onData(stream, _session, callback) {
    stream.on('end', () => {
      count++;
      callback();
    });
    stream.resume();
  },
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.server.address() as AddressInfo).port });
});
process.on('message', (message) => {
  if (message === 'count') process.send?.({ count });
  if (message === 'reset') count = 0;
});
process.on('disconnect', () => process.exit(0));
