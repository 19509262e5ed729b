import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request a receiver got, and whether each secret it holds verified it. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The `webhook-id` header. */
  id: string;
  /** Parsed body, when it is JSON. */
  json: { id?: string; type?: string; data?: Record<string, unknown>; [key: string]: unknown } | null;
  /** Verified with at least one of the receiver's secrets. */
  verified: boolean;
  /** The status this receiver answered. */
  status: number;
  at: number;
}

export type Behaviour =
  | { kind: 'ok' }
  /** 500 to the first `tries` requests of each `webhook-id`, then 200. */
  | { kind: 'fail-first'; tries: number }
  | { kind: 'status'; status: number; location?: string }
  /** Reads the request and never answers. */
  | { kind: 'silent' };

export interface WebhookReceiver {
  url: string;
  port: number;
  requests: ReceivedWebhook[];
  /** The secrets requests are verified with (replace to follow a rotation). */
  secrets: string[];
  behaviour: Behaviour;
  /** Waits this long before answering each request (a slow receiver). */
  delayMs: number;
  /** Verified requests, by `webhook-id`: how many copies of each event arrived. */
  byId(): Map<string, ReceivedWebhook[]>;
  /** Closes the server (open connections destroyed): connections are refused until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Verifies a request with a Standard Webhooks secret, as a partner's receiver would. */
export function verifies(secret: string, body: string, headers: IncomingHttpHeaders): boolean {
  try {
    new Webhook(secret).verify(body, headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

/**
 * A real HTTP receiver on 127.0.0.1 (a random port, kept across `down()`/`up()`) that
 * records every request it gets — raw body and headers — verifies it with its secrets,
 * and answers as told: 200, 500 for each event's first tries, a fixed status, or never.
 */
export async function startWebhookReceiver(
  options: { secrets?: string[]; behaviour?: Behaviour; delayMs?: number } = {},
): Promise<WebhookReceiver> {
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const tries = new Map<string, number>();
  let server: Server | null = null;
  let port = 0;

  const receiver: WebhookReceiver = {
    url: '',
    port: 0,
    requests: [],
    secrets: options.secrets ?? [],
    behaviour: options.behaviour ?? { kind: 'ok' },
    delayMs: options.delayMs ?? 0,
    byId() {
      const map = new Map<string, ReceivedWebhook[]>();
      for (const r of receiver.requests) {
        if (!r.verified) continue;
        map.set(r.id, [...(map.get(r.id) ?? []), r]);
      }
      return map;
    },
    async down() {
      const s = server;
      server = null;
      if (!s) return;
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => s.close(r));
    },
    up: () => listen(),
    close: () => receiver.down(),
  };

  function make(): Server {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const id = String(req.headers['webhook-id'] ?? '');
        let json: ReceivedWebhook['json'] = null;
        try {
          json = JSON.parse(body) as ReceivedWebhook['json'];
        } catch {
          json = null;
        }
        const verified = receiver.secrets.some((secret) => verifies(secret, body, req.headers));
        const behaviour = receiver.behaviour;
        let status = 200;
        if (behaviour.kind === 'fail-first') {
          const n = (tries.get(id) ?? 0) + 1;
          tries.set(id, n);
          status = n <= behaviour.tries ? 500 : 200;
        } else if (behaviour.kind === 'status') {
          status = behaviour.status;
        }
        const record: ReceivedWebhook = { headers: req.headers, body, id, json, verified, status, at: Date.now() };
        receiver.requests.push(record);
        if (behaviour.kind === 'silent') {
          hanging.add(res);
          res.on('close', () => hanging.delete(res));
          return;
        }
        const answer = () => {
          if (res.destroyed) return;
          if (behaviour.kind === 'status' && behaviour.location) res.setHeader('location', behaviour.location);
          res.statusCode = status;
          res.end(status < 300 ? 'ok' : 'no');
        };
        if (receiver.delayMs > 0) setTimeout(answer, receiver.delayMs);
        else answer();
      });
    });
    s.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    return s;
  }

  async function listen(): Promise<void> {
    if (server) return;
    const s = make();
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    server = s;
    port = (s.address() as AddressInfo).port;
    receiver.port = port;
    receiver.url = `http://127.0.0.1:${port}/hooks`;
  }

  await listen();
  return receiver;
}
