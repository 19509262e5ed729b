import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postWebhook, type WebhookHttpOptions, webhookUrlProblem } from '../../../lib/webhook-http.ts';

const local: WebhookHttpOptions = { allowPrivate: true, timeoutMs: 2000, maxResponseBytes: 2048 };
const strict: WebhookHttpOptions = { ...local, allowPrivate: false };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/**
 * A receiver on loopback that records every connection and request. It listens on `::`
 * (both families) where it can, so that a connection to [::1] or [::ffff:127.0.0.1] would
 * show up here too.
 */
async function receiver(handle: (req: IncomingMessage, res: ServerResponse) => void = (_, res) => res.end('ok')) {
  const seen = {
    connections: 0,
    requests: [] as { method: string; url: string; headers: IncomingHttpHeaders; body: string }[],
    socketClosed: new Set<net.Socket>(),
  };
  const sockets = new Set<net.Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      handle(req, res);
    });
  });
  server.on('connection', (socket) => {
    seen.connections++;
    sockets.add(socket);
    socket.on('close', () => seen.socketClosed.add(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: Error & { code?: string }) => {
      if (error.code !== 'EAFNOSUPPORT' && error.code !== 'EADDRNOTAVAIL') return reject(error);
      server.listen(0, '127.0.0.1', resolve);
    });
    server.listen(0, '::', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { port, url: `http://127.0.0.1:${port}/hooks/in?x=1`, seen };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - started };
}

describe('postWebhook', () => {
  it('delivers to a loopback receiver when private receivers are allowed: status and excerpt come back', async () => {
    const { url, seen } = await receiver((_, res) => res.writeHead(200).end('thanks'));
    expect(await postWebhook(url, {}, '{}', local)).toEqual({ kind: 'answered', status: 200, excerpt: 'thanks' });
    expect(seen.requests).toHaveLength(1);
  });

  it('sends the headers given, its own content type and user agent, and the body intact', async () => {
    const { url, seen } = await receiver();
    const body = JSON.stringify({ event: 'delegation.accepted', name: 'Zoë Ångström ✓', n: 1 });
    const result = await postWebhook(
      url,
      { 'x-mandate-signature': 'sha256=abc', 'X-Mandate-Delivery': 'd-1', 'Content-Type': 'text/plain' },
      body,
      local,
    );
    expect(result).toEqual({ kind: 'answered', status: 200, excerpt: 'ok' });
    const [request] = seen.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/hooks/in?x=1');
    expect(request?.headers).toMatchObject({
      'x-mandate-signature': 'sha256=abc',
      'x-mandate-delivery': 'd-1',
      'content-type': 'application/json',
      'user-agent': 'Mandate-Webhooks/1',
      'content-length': String(Buffer.byteLength(body)),
    });
    expect(request?.body).toBe(body);
  });

  it('reports any status as an answer', async () => {
    const { url } = await receiver((_, res) => res.writeHead(503).end('busy'));
    expect(await postWebhook(url, {}, '{}', local)).toEqual({ kind: 'answered', status: 503, excerpt: 'busy' });
  });

  describe('refuses inside addresses when private receivers are not allowed, without connecting', () => {
    it.each([
      ['http://127.0.0.1:PORT/', /^Only https URLs are accepted$/],
      ['https://127.0.0.1:PORT/', /^127\.0\.0\.1 is not on the public internet$/],
      // Through the connection's own lookup: the name is judged when the delivery is made.
      ['https://localhost:PORT/', /^localhost resolves to an address that is not on the public internet$/],
      ['https://[::1]:PORT/', /^::1 is not on the public internet$/],
      ['https://[::ffff:127.0.0.1]:PORT/', /^::ffff:7f00:1 is not on the public internet$/],
      ['https://2130706433:PORT/', /^127\.0\.0\.1 is not on the public internet$/],
    ])('%s', async (template, reason) => {
      const { port, seen } = await receiver();
      const result = await postWebhook(template.replace('PORT', String(port)), {}, '{}', strict);
      expect(result).toEqual({ kind: 'refused', reason: expect.stringMatching(reason) });
      expect(seen.connections).toBe(0);
    });

    it('https://169.254.169.254/ (a cloud metadata service)', async () => {
      const { result, ms } = await timed(() => postWebhook('https://169.254.169.254/latest/', {}, '{}', strict));
      expect(result).toEqual({ kind: 'refused', reason: '169.254.169.254 is not on the public internet' });
      expect(ms).toBeLessThan(100);
    });

    it('(the same receiver is reached once private receivers are allowed)', async () => {
      const { port, seen } = await receiver();
      // TLS to a plain-http server: a connection, then a failed handshake.
      const result = await postWebhook(`https://localhost:${port}/`, {}, '{}', local);
      expect(result.kind).toBe('unreachable');
      expect(seen.connections).toBe(1);
    });
  });

  it('keeps the first maxResponseBytes of a 2 MiB body that never ends, and closes the socket', async () => {
    const { url, seen } = await receiver((_, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(Buffer.alloc(2 * 1024 * 1024, 'a'));
    });
    const { result, ms } = await timed(() => postWebhook(url, {}, '{}', { ...local, timeoutMs: 1000 }));
    expect(result).toEqual({ kind: 'answered', status: 200, excerpt: 'a'.repeat(2048) });
    expect(ms).toBeLessThan(500);
    await expect.poll(() => seen.socketClosed.size, { timeout: 1000 }).toBe(1);
  });

  it('cuts the excerpt between characters, never inside one', async () => {
    const { url } = await receiver((_, res) => res.end(`x${'é'.repeat(2000)}`));
    const result = await postWebhook(url, {}, '{}', local);
    // 'x' and 1023 two-byte characters make 2047 bytes: the 2048th byte starts a character it cannot finish.
    expect(result).toEqual({ kind: 'answered', status: 200, excerpt: `x${'é'.repeat(1023)}` });
  });

  it('keeps no NUL of an answer (the excerpt is stored as text, which cannot hold one)', async () => {
    const { url } = await receiver((_, res) => res.end('ok\u0000done'));
    const result = await postWebhook(url, {}, '{}', local);
    expect(result).toEqual({ kind: 'answered', status: 200, excerpt: 'ok\uFFFDdone' });
  });

  it('gives up on a receiver that takes the connection and never answers', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    });
    const port = (silent.address() as net.AddressInfo).port;
    const { result, ms } = await timed(() =>
      postWebhook(`http://127.0.0.1:${port}/`, {}, '{}', { ...local, timeoutMs: 300 }),
    );
    expect(result).toEqual({ kind: 'unreachable', reason: 'no answer within 0.3 s' });
    expect(sockets).toHaveLength(1);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(800);
  });

  it('gives up on a receiver that sends its status then drips the body: unreachable, it did not finish', async () => {
    const { url } = await receiver((_, res) => {
      res.writeHead(200);
      res.write('a');
      const drip = setInterval(() => res.write('a'), 50);
      res.on('close', () => clearInterval(drip));
    });
    const { result, ms } = await timed(() => postWebhook(url, {}, '{}', { ...local, timeoutMs: 300 }));
    expect(result).toEqual({
      kind: 'unreachable',
      reason: 'no answer within 0.3 s (HTTP 200 came, its body did not finish)',
    });
    expect(ms).toBeLessThan(800);
  });

  it.each([
    ['a cloud metadata service', () => 'http://169.254.169.254/latest/meta-data/'],
    ['another loopback receiver', (other: string) => other],
  ])('does not follow a redirect to %s: the 302 and its location are the answer', async (_label, target) => {
    const other = await receiver();
    const location = target(other.url);
    const { url, seen } = await receiver((_, res) => res.writeHead(302, { location }).end());
    expect(await postWebhook(url, {}, '{}', local)).toEqual({ kind: 'answered', status: 302, excerpt: '', location });
    expect(seen.requests).toHaveLength(1);
    expect(other.seen.connections).toBe(0);
  });

  it('says a closed port is unreachable', async () => {
    const { port } = await new Promise<{ port: number }>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve({ port }));
      });
    });
    expect(await postWebhook(`http://127.0.0.1:${port}/`, {}, '{}', local)).toEqual({
      kind: 'unreachable',
      reason: 'connection refused',
    });
  });

  it('says a host that does not resolve is unreachable', async () => {
    expect(await postWebhook('https://nothing.invalid/', {}, '{}', strict)).toEqual({
      kind: 'unreachable',
      reason: 'the host does not resolve',
    });
  });
});

describe('webhookUrlProblem', () => {
  it.each([
    ['http://example.com/hook', false, 'Only https URLs are accepted'],
    ['ftp://example.com/hook', false, 'Only https URLs are accepted'],
    ['ftp://example.com/hook', true, 'Only http and https URLs are accepted'],
    ['not a url', false, 'This is not a URL'],
    ['https://user:secret@example.com/hook', false, 'URLs with a user name or password are not accepted'],
    ['https://example.com/hook#part', false, 'URLs with a fragment (#…) are not accepted'],
    ['https://example.com/hook#', false, 'URLs with a fragment (#…) are not accepted'],
    [`https://example.com/${'a'.repeat(2048)}`, false, 'URLs longer than 2048 characters are not accepted'],
    ['https://nothing.invalid/hook', false, 'nothing.invalid does not resolve'],
    ['https://nothing.invalid/hook', true, 'nothing.invalid does not resolve'],
    ['https://localhost/hook', false, /^localhost resolves to an address that is not on the public internet$/],
    ['https://10.0.0.5/hook', false, '10.0.0.5 is not on the public internet'],
    ['https://[::ffff:169.254.169.254]/hook', false, '::ffff:a9fe:a9fe is not on the public internet'],
    ['https://[fe80::1]/hook', false, 'fe80::1 is not on the public internet'],
    ['http://localhost:8080/hook', true, null],
    ['https://10.0.0.5/hook', true, null],
    ['https://93.184.215.14/hook?a=1', false, null],
  ])('%s (allowPrivate %s)', async (url, allowPrivate, expected) => {
    const problem = await webhookUrlProblem(url, { allowPrivate });
    if (expected instanceof RegExp) expect(problem).toMatch(expected);
    else expect(problem).toBe(expected);
  });
});
