import { desc, eq } from 'drizzle-orm';
import { simpleParser } from 'mailparser';
import type { Transport } from 'nodemailer';
import { createDb, createSql, type Db, type Sql } from '../../db/client.ts';
import { type DevMail, devMail } from '../../db/schema/dev-mail.ts';
import type { Config } from '../config.ts';

/**
 * True when mail goes to the development mailbox instead of an SMTP server: SMTP_URL is
 * unset (allowed outside production only, see lib/config.ts).
 */
export function isDevMailActive(config: Pick<Config, 'smtpUrl'>): boolean {
  return config.smtpUrl === undefined;
}

/** What nodemailer's `sendMail` resolves with, as the SMTP transport's info has it. */
export interface DevMailInfo {
  envelope: { from: string | false; to: string[] };
  messageId: string;
  accepted: string[];
  rejected: string[];
  response: string;
}

/**
 * A nodemailer transport that accepts every message and stores it in `dev_mail`, where
 * /dev/mail shows it. It reads the finished message as an SMTP server would (parsing the
 * bytes nodemailer produced), so what the page shows is what a real mailbox would get,
 * and the mailer's path — compose, stream, wait for the reply, record — stays the same.
 * Its own small pool opens on the first message (a process that sends nothing opens none)
 * and closes with the transport.
 */
export function createDevMailTransport(databaseUrl: string): Transport<DevMailInfo> {
  let sql: Sql | undefined;
  let db: Db | undefined;
  return {
    name: 'mandate-dev-mail',
    version: '1.0.0',
    send(mail, callback) {
      const envelope = mail.message.getEnvelope();
      simpleParser(mail.message.createReadStream())
        .then(async (parsed) => {
          if (!db) {
            sql = createSql(databaseUrl, { max: 2 });
            db = createDb(sql);
          }
          const messageId = parsed.messageId ?? mail.message.messageId();
          const [row] = await db
            .insert(devMail)
            .values({
              toAddress: envelope.to.join(', '),
              fromAddress: parsed.from?.text ?? (envelope.from || ''),
              subject: parsed.subject ?? '',
              textBody: parsed.text ?? '',
              htmlBody: parsed.html || '',
              messageId,
            })
            .returning({ id: devMail.id });
          callback(null, {
            envelope,
            messageId,
            accepted: envelope.to,
            rejected: [],
            response: `250 2.0.0 Kept in the development mailbox as message ${row?.id} (not sent)`,
          });
        })
        .catch((error: unknown) =>
          callback(error instanceof Error ? error : new Error(String(error)), undefined as never),
        );
    },
    close() {
      sql?.end({ timeout: 5 }).catch(() => undefined);
      sql = undefined;
      db = undefined;
    },
  };
}

/** How many messages /dev/mail lists, newest first. */
export const DEV_MAIL_PAGE_SIZE = 100;

export type DevMailSummary = Pick<DevMail, 'id' | 'toAddress' | 'fromAddress' | 'subject' | 'createdAt'>;

/** The latest messages of the development mailbox, newest first. */
export function listDevMail(db: Db, limit = DEV_MAIL_PAGE_SIZE): Promise<DevMailSummary[]> {
  return db
    .select({
      id: devMail.id,
      toAddress: devMail.toAddress,
      fromAddress: devMail.fromAddress,
      subject: devMail.subject,
      createdAt: devMail.createdAt,
    })
    .from(devMail)
    .orderBy(desc(devMail.id))
    .limit(limit);
}

/** One message of the development mailbox, or undefined. */
export async function findDevMail(db: Db, id: number): Promise<DevMail | undefined> {
  const [row] = await db.select().from(devMail).where(eq(devMail.id, id));
  return row;
}
