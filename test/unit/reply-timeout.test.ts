import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { DatabaseReplyTimeoutError, messageTypeReader, usesTls, watchConnection } from '../../db/reply-timeout.ts';

const message = (type: string, body = Buffer.alloc(0)) => {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
};
const readyForQuery = message('Z', Buffer.from('I'));

describe('messageTypeReader', () => {
  it('finds each message type however the stream is cut, skipping an untyped first message', () => {
    const startup = Buffer.alloc(8);
    startup.writeUInt32BE(8, 0);
    const stream = Buffer.concat([
      startup,
      message('P', Buffer.from('select 1\0')),
      message('S'),
      message('Q', Buffer.alloc(300, 1)),
    ]);
    for (const size of [1, 3, 5, 7, 1000]) {
      const types: string[] = [];
      const read = messageTypeReader((t) => types.push(String.fromCharCode(t)), true);
      for (let i = 0; i < stream.length; i += size) read(stream.subarray(i, i + size));
      expect(types, `chunks of ${size}`).toEqual(['P', 'S', 'Q']);
    }
  });
});

describe('watchConnection', () => {
  /** A server that answers nothing, and a watched client connected to it. */
  async function silentServer() {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new net.Socket();
    client.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    watchConnection(client, 200);
    await new Promise((r) => client.once('connect', r));
    const startup = Buffer.alloc(8);
    startup.writeUInt32BE(8, 0);
    client.write(startup);
    return {
      client,
      sockets,
      close: () => {
        client.destroy();
        for (const s of sockets) s.destroy();
        return new Promise((r) => server.close(r));
      },
    };
  }

  it('leaves an idle connection alone, and one whose queries were all answered', async () => {
    const { client, sockets, close } = await silentServer();
    client.write(message('S'));
    await new Promise((r) => setTimeout(r, 50));
    sockets[0]?.write(readyForQuery);
    await new Promise((r) => setTimeout(r, 400));
    expect(client.destroyed).toBe(false);
    await close();
  });

  it.each([
    ['a Sync', 'S'],
    ['a Flush (the Describe of a statement run for the first time)', 'H'],
  ])('closes a connection whose server says nothing after %s, with an error that says so', async (_label, type) => {
    const { client, close } = await silentServer();
    const closed = new Promise<{ error: unknown; hadError: unknown }>((resolve) => {
      let error: unknown;
      client.once('error', (e) => (error = e));
      client.once('close', (hadError) => resolve({ error, hadError }));
    });
    const started = performance.now();
    client.write(message(type));
    const { error, hadError } = await closed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(error).toBeInstanceOf(DatabaseReplyTimeoutError);
    // Reported as a plain close, so that postgres.js fails whatever is still pending on it.
    expect(hadError).toBe(false);
    await close();
  });
});

it('usesTls: sslmode or ssl other than disable', () => {
  expect(usesTls('postgres://u@h/db')).toBe(false);
  expect(usesTls('postgres://u@h/db?sslmode=disable')).toBe(false);
  expect(usesTls('postgres://u@h/db?sslmode=require')).toBe(true);
  expect(usesTls('postgres://u@h/db?ssl=true')).toBe(true);
});
