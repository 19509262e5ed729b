import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Db } from '../db/client.ts';
import { readBounceAddress } from '../lib/bounce-address.ts';
import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import { countBounce } from '../lib/metrics.ts';
import { receiveBounce } from '../services/campaigns/bounces.ts';

export interface BounceListener {
  port: number;
  /**
   * Stops taking connections and waits for the messages being received (up to
   * SHUTDOWN_GRACE_MS); an unanswered one is sent again by its server later.
   */
  close(): Promise<void>;
}

export interface BounceListenerDeps {
  db: Db;
  logger: Logger;
  config: Pick<
    Config,
    'linkSecret' | 'mailBounceDomain' | 'bounceSmtpPort' | 'bounceSmtpHost' | 'bounceMaxBytes' | 'shutdownGraceMs'
  >;
  /** Longest a session may last. Default {@link MAX_SESSION_MS}; tests shorten it. */
  maxSessionMs?: number;
}

/** Connections at once from one remote address; more are refused (421) until one closes. */
export const MAX_CONNECTIONS_PER_ADDRESS = 5;
/** Longest a session may last, however slowly its sender talks (socketTimeout is per silence). */
export const MAX_SESSION_MS = 5 * 60_000;
/** Refused recipients after which a session is closed: a sender guessing addresses. */
export const MAX_REFUSED_RECIPIENTS = 10;

/** An SMTP reply a handler gives back: the code and the text after it. */
const reply = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

/**
 * Mandate's inbound SMTP server for bounces (BOUNCE_SMTP_PORT; docs/adr/0024): the MX of
 * MAIL_BOUNCE_DOMAIN. It takes mail only for the bounce addresses Mandate gave out (others
 * are refused at RCPT TO: 550, counted `foreign` or `forged`), at most BOUNCE_MAX_BYTES per
 * message (552, `oversized`), and answers 250 only once the report is committed — so a
 * crash, or PostgreSQL away (451), leaves the report with the sending server, which tries
 * again. No AUTH (the senders are other people's servers) and no STARTTLS (no certificate
 * to offer; a bounce carries nothing the offer email did not).
 */
export async function startBounceListener(deps: BounceListenerDeps): Promise<BounceListener> {
  const domain = deps.config.mailBounceDomain;
  if (!domain) throw new Error('the bounce listener needs MAIL_BOUNCE_DOMAIN');
  const logger = deps.logger.child({ component: 'bounce-listener' });
  // Per remote address, the sessions open; per session, when it ends and what it was refused.
  const openPerAddress = new Map<string, number>();
  const sessions = new Map<string, { remoteAddress: string; deadline: NodeJS.Timeout; refused: number }>();
  const server: SMTPServer = new SMTPServer({
    banner: 'Mandate bounce listener',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: deps.config.bounceMaxBytes,
    maxClients: 100,
    // Each offer email has its own return path: a real report has one recipient.
    maxRecipients: 1,
    // A sender that stops talking frees its slot (the default is a minute).
    socketTimeout: 30_000,
    closeTimeout: deps.config.shutdownGraceMs,
    onConnect(session, callback) {
      const open = openPerAddress.get(session.remoteAddress) ?? 0;
      if (open >= MAX_CONNECTIONS_PER_ADDRESS) {
        return callback(reply(421, '4.7.0 Too many connections from your address; try again later'));
      }
      openPerAddress.set(session.remoteAddress, open + 1);
      const deadline = setTimeout(() => {
        // No handle on the session's connection in the handlers: found by its id.
        const connections = (server as unknown as { connections: Set<{ id: string; close(): void }> }).connections;
        for (const connection of connections) if (connection.id === session.id) connection.close();
      }, deps.maxSessionMs ?? MAX_SESSION_MS);
      deadline.unref();
      sessions.set(session.id, { remoteAddress: session.remoteAddress, deadline, refused: 0 });
      return callback();
    },
    onClose(session) {
      const open = sessions.get(session.id);
      if (!open) return; // refused at connect: never counted
      sessions.delete(session.id);
      clearTimeout(open.deadline);
      const left = (openPerAddress.get(open.remoteAddress) ?? 1) - 1;
      if (left > 0) openPerAddress.set(open.remoteAddress, left);
      else openPerAddress.delete(open.remoteAddress);
    },
    onMailFrom(address, _session, callback) {
      // Real reports come from the null sender (RFC 3464, RFC 5321 §4.5.5); others are taken
      // (some forwarders rewrite it) but counted, to see who writes to these addresses.
      if (address.address !== '') countBounce('not_null_sender');
      return callback();
    },
    onRcptTo(address, session, callback) {
      const reading = readBounceAddress(deps.config.linkSecret, domain, address.address);
      if (!reading.ok) {
        countBounce(reading.reason);
        const open = sessions.get(session.id);
        if (open && ++open.refused >= MAX_REFUSED_RECIPIENTS) {
          return callback(reply(421, '4.7.0 Too many refused recipients; closing'));
        }
        return callback(
          reading.reason === 'foreign'
            ? reply(550, '5.7.1 This server takes bounces for its own domain only')
            : reply(550, '5.1.1 No such bounce address'),
        );
      }
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        // Past the limit, read on to the end (the protocol needs it) but keep nothing.
        if (!stream.sizeExceeded) chunks.push(chunk);
      });
      stream.on('error', callback);
      stream.on('end', () => {
        // The envelope holds only the recipients onRcptTo accepted.
        const targets = session.envelope.rcptTo.flatMap((r) => {
          const reading = readBounceAddress(deps.config.linkSecret, domain, r.address);
          return reading.ok ? [{ delegationId: reading.delegationId, attempt: reading.attempt }] : [];
        });
        if (stream.sizeExceeded) {
          countBounce('oversized');
          return callback(reply(552, '5.3.4 Message too big for this server'));
        }
        receiveBounce({ db: deps.db, logger }, { raw: Buffer.concat(chunks), targets }).then(
          () => callback(),
          (error: unknown) => {
            logger.warn({ err: error, targets }, 'bounce report not recorded; the sender will try again');
            callback(reply(451, '4.3.0 Could not record the report now; try again later'));
          },
        );
      });
    },
  });
  // Senders that drop the connection mid-message are other people's servers: not our error.
  server.on('error', (error) => logger.debug({ err: error }, 'bounce listener connection error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(deps.config.bounceSmtpPort ?? 0, deps.config.bounceSmtpHost, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  logger.info({ port, host: deps.config.bounceSmtpHost, domain }, 'bounce listener running');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
