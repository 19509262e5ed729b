import { PassThrough } from 'node:stream';
import nodemailer from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import type { Config } from './config.ts';
import { createDevMailTransport } from './dev/mailbox.ts';
import { type MessageTemplate, messageTemplate } from './mail-template.ts';
import { semaphore } from './semaphore.ts';

/** Message templates a mailer keeps, the oldest dropped first. */
const TEMPLATES_KEPT = 256;

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Deterministic per piece of work, so a receiver can drop a resent copy. */
  messageId: string;
  /**
   * The envelope sender (return path), where servers send a bounce: an address of its own
   * per message when bounces are read (lib/bounce-address.ts). Default: MAIL_FROM's address.
   */
  returnPath?: string | undefined;
}

/** The envelope sender of `email`: its own return path, or the sender's address. */
export function envelopeSender(email: Pick<OutgoingEmail, 'returnPath'>, mailFrom: string): string {
  return email.returnPath ?? senderAddress(mailFrom);
}

export interface Mailer {
  /** Resolves with the server's final reply; rejects with nodemailer's error. */
  send(email: OutgoingEmail): Promise<{ reply: string }>;
  /**
   * Sends `email` and runs `record` with the server's reply, such that at most
   * MAIL_UNCONFIRMED_MAX (default 1) messages of this process are ever between "the end
   * of its data went to the server" and "its sending was recorded". If the process dies,
   * every other message in flight was still open — the server drops an unfinished
   * message — so at most that many emails can have been delivered without being
   * recorded: the bound on duplicates per crash. Messages still stream concurrently
   * over the pool; only that last step is taken in turn.
   *
   * `markInDoubt`, when given, runs in the message's turn before its end of data is sent,
   * and must have committed the mark of the message as "in doubt": if it throws, the
   * message is abandoned unfinished (the server drops it) and the error is returned.
   * Without `markInDoubt`, `record` holds the turn until it settles. With it, `record` is
   * started in the turn and awaited after it, and the next message may be marked at once:
   * `record` and `markInDoubt` must then write through one commit group
   * (lib/commit-group.ts), whose commits keep their order — the next mark commits with
   * or after this record, so the bound holds per commit, not per message, and a record
   * that cannot be written stops every later end of data until it is.
   * A failure after the end of data went out carries `endOfDataSent: true`.
   */
  sendAndRecord<T>(
    email: OutgoingEmail,
    record: (reply: string) => Promise<T>,
    options?: { markInDoubt?: () => Promise<void> },
  ): Promise<T>;
  /** The domain Message-IDs end with (the sender's domain). */
  readonly messageIdDomain: string;
  close(): void;
}

/** The address of MAIL_FROM (`Mandate <no-reply@x>` → `no-reply@x`). */
export function senderAddress(mailFrom: string): string {
  const [first] = addressparser(mailFrom, { flatten: true });
  return first && 'address' in first ? first.address : '';
}

/** The domain of the MAIL_FROM address, or `localhost`. */
export function senderDomain(mailFrom: string): string {
  return senderAddress(mailFrom).split('@')[1] || 'localhost';
}

/**
 * A pooled SMTP transport: up to SMTP_POOL_SIZE connections reused across messages,
 * which is what lets one worker keep many sends in flight. Without SMTP_URL, the
 * development mailbox (lib/dev-mail.ts) takes the messages instead, through the same path.
 */
export function createMailer(
  config: Pick<Config, 'smtpUrl' | 'smtpPoolSize' | 'mailFrom' | 'mailUnconfirmedMax'> &
    Partial<Pick<Config, 'databaseUrl'>>,
): Mailer {
  const transport = config.smtpUrl
    ? nodemailer.createTransport({
        url: config.smtpUrl,
        pool: true,
        maxConnections: config.smtpPoolSize,
        maxMessages: Number.POSITIVE_INFINITY,
        // No silent resend by the pool: a message refused for a passing reason before a byte
        // went out is retried by its own job (its claim, its mark, its turn). The pool's
        // requeue would put it back behind messages that hold their connections waiting for
        // their turn to end their data, and re-read a body stream already read.
        maxRequeues: 0,
        // Fail a stuck connection instead of holding a job forever.
        connectionTimeout: 15_000,
        greetingTimeout: 15_000,
        socketTimeout: 60_000,
      })
    : nodemailer.createTransport(createDevMailTransport(requireDatabaseUrl(config.databaseUrl)));
  // The turn-taking of sendAndRecord: at most `mailUnconfirmedMax` holders at a time.
  const inTurn = semaphore(config.mailUnconfirmedMax);
  // One template per subject (a campaign's messages share theirs): the static parts are
  // built once, the recipient's fields per message (lib/mail-template.ts).
  const templates = new Map<string, MessageTemplate>();
  const templateFor = (subject: string) => {
    let template = templates.get(subject);
    if (!template) {
      template = messageTemplate(config.mailFrom, subject);
      if (templates.size >= TEMPLATES_KEPT) templates.delete(templates.keys().next().value as string);
      templates.set(subject, template);
    }
    return template;
  };
  return {
    messageIdDomain: senderDomain(config.mailFrom),
    async sendAndRecord(email, record, options) {
      const raw = templateFor(email.subject).render(email);
      // The message is written now, but its end — after which the server may accept it —
      // only when it is this message's turn.
      const body = new PassThrough();
      body.on('error', () => undefined); // an abandoned message ends its stream with an error; sending reports it
      body.write(raw);
      let failedBeforeTurn = false;
      const sending = transport.sendMail({
        envelope: { from: envelopeSender(email, config.mailFrom), to: [email.to] },
        raw: body,
      });
      sending.then(
        () => undefined,
        () => {
          failedBeforeTurn = true; // a refusal before the end (RCPT TO, the connection): awaited below
        },
      );
      const turn = await inTurn(async () => {
        if (!failedBeforeTurn && options?.markInDoubt) {
          try {
            await options.markInDoubt();
          } catch (error) {
            // No end of data without its mark: the unfinished message is dropped by the server.
            // Not awaited: a message still queued for a connection settles only when one takes it.
            body.destroy(new Error('the message was abandoned before its end of data'));
            throw error;
          }
        }
        const endOfDataSent = !failedBeforeTurn;
        body.end();
        let info: Awaited<typeof sending>;
        try {
          info = await sending;
        } catch (error) {
          throw Object.assign(error as object, { endOfDataSent });
        }
        const recorded = record(String(info.response ?? ''));
        return options?.markInDoubt ? { recorded } : { recorded: await recorded };
      });
      return turn.recorded;
    },
    async send(email) {
      const info = await transport.sendMail({
        from: config.mailFrom,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        ...(email.returnPath ? { envelope: { from: email.returnPath, to: [email.to] } } : {}),
      });
      return { reply: String(info.response ?? '') };
    },
    close() {
      transport.close();
    },
  };
}

function requireDatabaseUrl(url: string | undefined): string {
  if (!url) throw new Error('without SMTP_URL, the development mailbox needs the database URL');
  return url;
}
