import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  from: string;
  messageId: string | undefined;
  subject: string | undefined;
  text: string;
  html: string;
  headers: ParsedMail['headers'];
  /** When its data had arrived (Date.now()), to compare when messages of different kinds got through. */
  receivedAt: number;
}

/**
 * What the sink answers to a recipient; undefined accepts it. `'hold'` never answers: the
 * client is left waiting (a test that kills the client at that moment uses it).
 */
export type RcptRule = (address: string, attempt: number) => { code: number; message: string } | 'hold' | undefined;

export interface SmtpSink {
  port: number;
  url: string;
  messages: ReceivedMail[];
  /** RCPT TO attempts per address (lower-cased), accepted or not. */
  attempts: Map<string, number>;
  /** Messages whose DATA is being received right now. */
  receiving: number;
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 and a random port that keeps what it receives.
 * `rule` decides per RCPT TO whether to accept or reply with an error code, e.g. 550
 * for an unknown mailbox or 421 on the first attempt only.
 */
export async function startSmtpSink(
  options: {
    rule?: RcptRule;
    /** Decides per MAIL FROM (counted across the whole sink) whether to accept the sender. */
    mailFromRule?: (attempt: number) => { code: number; message: string } | undefined;
    /** Waits this long before answering a message's DATA, like a slow server. */
    dataDelayMs?: number;
    /**
     * After a message's data has arrived (and been kept), `'drop'` closes the connection
     * without answering: the client cannot know the message got through. `'hold'` keeps the
     * message and never answers (a test that kills the client at that moment uses it).
     */
    dataRule?: (to: string, attempt: number) => 'drop' | 'hold' | undefined;
  } = {},
): Promise<SmtpSink> {
  let mailFromAttempts = 0;
  const messages: ReceivedMail[] = [];
  const attempts = new Map<string, number>();
  const sink = { receiving: 0 } as SmtpSink;
  const dataAttempts = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 10 * 1024 * 1024,
    onMailFrom(_address, _session, callback) {
      const verdict = options.mailFromRule?.(++mailFromAttempts);
      if (!verdict) return callback();
      return callback(Object.assign(new Error(verdict.message), { responseCode: verdict.code }));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const key = address.address.toLowerCase();
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const verdict = options.rule?.(key, attempt);
      if (verdict === 'hold') return;
      if (!verdict) return callback();
      return callback(Object.assign(new Error(verdict.message), { responseCode: verdict.code }));
    },
    onData(stream, session, callback) {
      sink.receiving++;
      simpleParser(stream)
        .then(async (mail) => {
          if (options.dataDelayMs) await new Promise((r) => setTimeout(r, options.dataDelayMs));
          sink.receiving--;
          const to = session.envelope.rcptTo[0]?.address.toLowerCase() ?? '';
          const attempt = (dataAttempts.get(to) ?? 0) + 1;
          dataAttempts.set(to, attempt);
          messages.push({
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            messageId: mail.messageId,
            subject: mail.subject,
            text: mail.text ?? '',
            html: typeof mail.html === 'string' ? mail.html : '',
            headers: mail.headers,
            receivedAt: Date.now(),
          });
          const verdict = options.dataRule?.(to, attempt);
          if (verdict === 'hold') return;
          if (verdict === 'drop') {
            const connection = [
              ...(server as unknown as { connections: Set<{ session: { id: string }; _socket: { destroy(): void } }> })
                .connections,
            ].find((c) => c.session.id === session.id);
            connection?._socket.destroy();
            return;
          }
          callback();
        })
        .catch(callback);
    },
  });
  // Clients that die mid-conversation (the fault tests kill them) reset their sockets:
  // expected, not a failure of the sink.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;

  Object.assign(sink, {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    attempts,
    async waitForMessages(count: number, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${messages.length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return messages;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
  return sink;
}
