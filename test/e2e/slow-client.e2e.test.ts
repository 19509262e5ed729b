import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;
let server: RunningServer;

beforeAll(async () => {
  stack = await createTestStack();
  server = await startServer(
    stack.app,
    { host: '127.0.0.1', port: 0 },
    { headersTimeoutMs: 500, requestTimeoutMs: 1000 },
  );
});
afterAll(async () => {
  await server.close();
  await stack.close();
});

describe('slow clients', () => {
  it('a client that never finishes its headers is cut off', async () => {
    const socket = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const reply = await new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk;
      });
      socket.on('close', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  });
});
