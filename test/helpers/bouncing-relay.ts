import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { bounceReport, deliverBounce } from './bounce-report.ts';

/** One delivery status notification the relay wrote, and what became of it. */
export interface RelayReport {
  returnPath: string;
  recipient: string;
  status: string;
  diagnostic: string;
  messageId: string;
  /** Deliveries tried, refused or cut off ones included. */
  attempts: number;
  delivered: boolean;
}

export interface BouncingRelay {
  url: string;
  reports: RelayReport[];
  /** Messages taken but not yet passed on or bounced. */
  forwarding: number;
  close(): Promise<void>;
}

/**
 * A smarthost as partners run one (Postfix, say), on loopback: it answers 250 to every
 * message at once, then passes each on to the final server; when that refuses a recipient
 * for good (5xx), it writes a delivery status notification (test/helpers/bounce-report.ts)
 * to the message's return path and delivers it to the bounce domain's MX — `bounceTo()`,
 * the listener's port — trying again every `retryMs` until it is taken, keeping the
 * report's Message-ID as a queued report does. Temporary refusals of the final server are
 * retried the same way.
 */
export async function startBouncingRelay(options: {
  finalServer: string;
  bounceTo: () => number;
  retryMs?: number;
}): Promise<BouncingRelay> {
  const retryMs = options.retryMs ?? 200;
  const final = nodemailer.createTransport({ url: options.finalServer, pool: true, maxConnections: 5 });
  let closed = false;
  const relay: BouncingRelay = { url: '', reports: [], forwarding: 0, close: async () => {} };
  const pause = () => new Promise((r) => setTimeout(r, retryMs));

  const sendReport = async (report: RelayReport, raw: string) => {
    while (!closed && !report.delivered) {
      report.attempts++;
      try {
        await deliverBounce(options.bounceTo(), report.returnPath, raw);
        report.delivered = true;
      } catch {
        await pause();
      }
    }
  };
  const passOn = async (from: string, to: string, raw: Buffer) => {
    relay.forwarding++;
    try {
      while (!closed) {
        try {
          await final.sendMail({ envelope: { from, to: [to] }, raw });
          return;
        } catch (error) {
          const code = (error as { responseCode?: number }).responseCode ?? 0;
          if (code < 500) {
            await pause();
            continue;
          }
          const diagnostic = String((error as { response?: string }).response ?? `${code}`);
          const status = /\b([45]\.\d{1,3}\.\d{1,3})\b/.exec(diagnostic)?.[1] ?? '5.0.0';
          const messageId = `<${Math.random().toString(36).slice(2)}.report@relay.partner.test>`;
          const report: RelayReport = {
            returnPath: from,
            recipient: to,
            status,
            diagnostic,
            messageId,
            attempts: 0,
            delivered: false,
          };
          relay.reports.push(report);
          void sendReport(report, bounceReport({ to: from, recipient: to, status, diagnostic, messageId }));
          return;
        }
      }
    } finally {
      relay.forwarding--;
    }
  };

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const raw = Buffer.concat(chunks);
        for (const r of session.envelope.rcptTo) void passOn(from, r.address, raw);
        callback(); // 250 first, as a relay does: the final server's answer comes later
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  relay.close = async () => {
    closed = true;
    final.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return relay;
}
