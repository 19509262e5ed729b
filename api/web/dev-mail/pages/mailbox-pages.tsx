import type { Child } from 'hono/jsx';
import type { DevMail } from '../../../../db/schema/dev-mail.ts';
import type { DevMailSummary } from '../../../../lib/dev/mailbox.ts';
import { utcSecond } from '../../shared/format.ts';
import { Layout } from '../../shared/layout.tsx';

const preStyle =
  'white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: 1rem; border-radius: 6px;';

function Banner() {
  return (
    <p class="error" style="font-size: 1.25rem; font-weight: 700;">
      Development only: these emails were not sent.
    </p>
  );
}

export function DevMailListPage(props: { messages: DevMailSummary[] }) {
  return (
    <Layout title="Development mailbox" refreshSeconds={5}>
      <h1>Development mailbox</h1>
      <Banner />
      <p class="muted">
        SMTP_URL is not set, so Mandate keeps every email here instead of sending it. Set SMTP_URL to send real mail.
        The latest 100 messages, newest first; this page refreshes every 5 seconds.
      </p>
      {props.messages.length === 0 ? (
        <p>No email yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Received (UTC)</th>
              <th>To</th>
              <th>Subject</th>
            </tr>
          </thead>
          <tbody>
            {props.messages.map((m) => (
              <tr>
                <td class="date">{utcSecond(m.createdAt)}</td>
                <td>{m.toAddress}</td>
                <td>
                  <a href={`/dev/mail/${m.id}`}>{m.subject || '(no subject)'}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}

export function DevMailMessagePage(props: { message: DevMail }) {
  const m = props.message;
  return (
    <Layout title={m.subject || 'Message'}>
      <p>
        <a href="/dev/mail">← Development mailbox</a>
      </p>
      <Banner />
      <h1>{m.subject || '(no subject)'}</h1>
      <dl>
        <dt>From</dt>
        <dd>{m.fromAddress}</dd>
        <dt>To</dt>
        <dd>{m.toAddress}</dd>
        <dt>Received</dt>
        <dd>{utcSecond(m.createdAt)} UTC</dd>
        <dt>Message-ID</dt>
        <dd>
          <small>{m.messageId}</small>
        </dd>
      </dl>
      <h2>Text</h2>
      <pre style={preStyle}>
        <TextWithLinks text={m.textBody} />
      </pre>
      {m.htmlBody ? (
        <details>
          <summary>HTML part (source)</summary>
          <pre style={preStyle}>{m.htmlBody}</pre>
        </details>
      ) : null}
    </Layout>
  );
}

/** Web addresses in a message's text, up to (not including) trailing punctuation. */
const webAddress = /https?:\/\/[^\s<>"'`]+/g;

/** The text, escaped, with its http(s) addresses as links (and nothing else as markup). */
function TextWithLinks(props: { text: string }) {
  const parts: Child[] = [];
  let from = 0;
  for (const match of props.text.matchAll(webAddress)) {
    const address = match[0].replace(/[.,;:!?)\]}]+$/, '');
    parts.push(props.text.slice(from, match.index));
    parts.push(<a href={address}>{address}</a>);
    from = match.index + address.length;
  }
  parts.push(props.text.slice(from));
  return <>{parts}</>;
}
