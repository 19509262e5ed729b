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
      {m.htmlBody ? (
        <>
          <h2>HTML</h2>
          <p class="muted">
            Rendered in a sandbox: no script in it runs, nothing is loaded from another site (images, fonts,
            stylesheets), and a link opens in a new tab.
          </p>
          <RenderedHtml html={m.htmlBody} />
          <details>
            <summary>HTML part (source)</summary>
            <pre style={preStyle}>{m.htmlBody}</pre>
          </details>
        </>
      ) : null}
      <h2>Text</h2>
      <pre style={preStyle}>
        <TextWithLinks text={m.textBody} />
      </pre>
    </Layout>
  );
}

/**
 * The HTML part as a mail client shows it, in a frame that cannot hurt the page: its
 * document is the `srcdoc` attribute (escaped like any attribute), and its sandbox allows
 * no script and gives it no origin — it cannot read this page, its cookies or the other
 * messages, nor submit a form or navigate the page. What it may do is open a link the
 * reader clicks in a tab of its own (outside the sandbox, so the offer page works there).
 * The frame's document inherits this page's Content-Security-Policy (pageHeaders):
 * nothing from another site is loaded — no tracking pixel, web font or stylesheet.
 */
function RenderedHtml(props: { html: string }) {
  return (
    <iframe
      title="The HTML part, rendered"
      sandbox="allow-popups allow-popups-to-escape-sandbox"
      srcdoc={withLinksInNewTabs(props.html)}
      style="width: 100%; height: 32rem; border: 1px solid #d0d7de; border-radius: 6px; background: #fff;"
    />
  );
}

/**
 * The document with `<base target="_blank">` in its head, so that a link opens a new tab
 * instead of navigating the frame (which this page's policy would block). Put after the
 * `<head>` tag or the doctype, whichever comes first, so the document keeps its mode.
 */
export function withLinksInNewTabs(html: string): string {
  const base = '<base target="_blank">';
  const after = /<head\b[^>]*>/i.exec(html) ?? /^\s*<!doctype[^>]*>/i.exec(html);
  if (!after) return `${base}${html}`;
  const at = after.index + after[0].length;
  return `${html.slice(0, at)}${base}${html.slice(at)}`;
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
