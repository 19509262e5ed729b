import { randomBytes } from 'node:crypto';
import { foldLines } from 'nodemailer/lib/mime-funcs';
import MimeNode from 'nodemailer/lib/mime-node';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';

/** What changes from one recipient of a template to the next. */
export interface TemplateFields {
  to: string;
  messageId: string;
  text: string;
  html: string;
}

/**
 * A message's static parts built once — its From and Subject headers encoded, its
 * multipart/alternative structure and boundary — with only the recipient's fields encoded
 * per message, by nodemailer's own encoders (header values through MimeNode, bodies as
 * quoted-printable wrapped at 76). Building a message through nodemailer's MailComposer
 * streams every part through a chain of transforms, about a millisecond of CPU per
 * message; this is a string join. The send pipeline keeps one per sender and subject (a
 * campaign's chunk shares both), see lib/mailer.ts.
 */
export interface MessageTemplate {
  render(fields: TemplateFields, date?: Date): Buffer;
}

const header = (key: string, value: string) => foldLines(`${key}: ${MimeNode.encodeHeaderValue(key, value)}`, 76);

/** Bodies as quoted-printable with CRLF line breaks, as MailComposer writes them. */
const body = (content: string) => qpWrap(qpEncode(content.replace(/\r?\n|\r/g, '\r\n')), 76);

export function messageTemplate(from: string, subject: string): MessageTemplate {
  const boundary = `--_mandate_${randomBytes(12).toString('hex')}`;
  const fromLine = header('From', from);
  const subjectLine = header('Subject', subject);
  const part = (type: string) =>
    `--${boundary}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`;
  const textPart = part('text/plain');
  const htmlPart = part('text/html');
  return {
    render(fields, date = new Date()) {
      return Buffer.from(
        [
          `Content-Type: multipart/alternative;\r\n boundary="${boundary}"`,
          fromLine,
          header('To', fields.to),
          subjectLine,
          header('Message-ID', fields.messageId),
          `Date: ${date.toUTCString().replace(/GMT/, '+0000')}`,
          'MIME-Version: 1.0',
          '',
          `${textPart}${body(fields.text)}`,
          `${htmlPart}${body(fields.html)}`,
          `--${boundary}--`,
          '',
        ].join('\r\n'),
        'utf-8',
      );
    },
  };
}
