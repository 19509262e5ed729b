import { Hono } from 'hono';
import { AppError } from '../../../core/errors.ts';
import { findDevMail, isDevMailActive, listDevMail } from '../../../lib/dev/mailbox.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { isLocalClient } from '../../local-client.ts';
import { renderPage } from '../shared/context.ts';
import { pageArea } from '../shared/error-page.tsx';
import { pageHeaders } from '../shared/page-headers.ts';
import { DevMailListPage, DevMailMessagePage } from './pages/mailbox-pages.tsx';

/**
 * The development mailbox: /dev/mail lists the latest messages kept instead of sent
 * (SMTP_URL unset), /dev/mail/:id shows one, so the offer link in an email can be
 * clicked on a machine without a mail server.
 *
 * No sign-in: it is the local developer's inbox, and it exists only while SMTP_URL is
 * unset, which production refuses (lib/config.ts), and only for a client on this machine
 * (a loopback socket, not through a proxy: docs/adr/0015) — it holds temporary passwords
 * and personal links. Otherwise every path under it is the same 404 as any unknown
 * address, and nothing is read.
 */
export function createDevMailbox(): WebApp {
  const pages = new Hono<AppEnv>();
  // All of /dev is development pages: an unknown address there is a 404 page too.
  pages.use('/dev/*', pageArea('org'));
  // '/dev/mail/*' matches '/dev/mail' itself too.
  pages.use('/dev/mail/*', async (c, next) => {
    if (!isDevMailActive(c.var.deps.config) || !isLocalClient(c)) return c.notFound();
    await next();
  });
  pages.use('/dev/mail/*', pageHeaders);

  pages.get('/dev/mail', async (c) => {
    const messages = await listDevMail(c.var.deps.db);
    return renderPage(c, <DevMailListPage messages={messages} />);
  });

  pages.get('/dev/mail/:id', async (c) => {
    const id = c.req.param('id');
    const message = /^[1-9][0-9]{0,14}$/.test(id) ? await findDevMail(c.var.deps.db, Number(id)) : undefined;
    if (!message) throw new AppError('NOT_FOUND', 'There is no such message in the development mailbox.');
    return renderPage(c, <DevMailMessagePage message={message} />);
  });
  return pages;
}
