import nodemailer from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import type { Config } from './config.ts';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Deterministic per piece of work, so a receiver can drop a resent copy. */
  messageId: string;
}

export interface Mailer {
  /** Resolves with the server's final reply; rejects with nodemailer's error. */
  send(email: OutgoingEmail): Promise<{ reply: string }>;
  /** The domain Message-IDs end with (the sender's domain). */
  readonly messageIdDomain: string;
  close(): void;
}

/** The domain of the MAIL_FROM address, or `localhost`. */
export function senderDomain(mailFrom: string): string {
  const [first] = addressparser(mailFrom, { flatten: true });
  const address = first && 'address' in first ? first.address : '';
  return address.split('@')[1] || 'localhost';
}

/**
 * A pooled SMTP transport: up to SMTP_POOL_SIZE connections reused across messages,
 * which is what lets one worker keep many sends in flight.
 */
export function createMailer(config: Pick<Config, 'smtpUrl' | 'smtpPoolSize' | 'mailFrom'>): Mailer {
  const transport = nodemailer.createTransport({
    url: config.smtpUrl,
    pool: true,
    maxConnections: config.smtpPoolSize,
    maxMessages: Number.POSITIVE_INFINITY,
    // Fail a stuck connection instead of holding a job forever.
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
  return {
    messageIdDomain: senderDomain(config.mailFrom),
    async send(email) {
      const info = await transport.sendMail({
        from: config.mailFrom,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
      });
      return { reply: String(info.response ?? '') };
    },
    close() {
      transport.close();
    },
  };
}
