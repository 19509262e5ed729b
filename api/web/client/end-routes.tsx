import { AppError } from '../../../core/errors.ts';
import {
  canEnd,
  type EndLinkView,
  endDelegationByLink,
  resolveEndLink,
} from '../../../services/delegations/end-links.ts';
import type { WebApp } from '../../env.ts';
import { clientIp, csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { MessagePage } from '../shared/layout.tsx';
import { EndDelegationPage, nothingToEnd } from './pages/end-delegation-page.tsx';

/** Said for a wrong key and an unknown delegation alike: the page tells a wrong key nothing. */
const nothingHere = () => new AppError('NOT_FOUND', 'There is nothing at this address.');

function NothingToEnd({ link }: { link: EndLinkView }) {
  const ended = link.state === 'terminated' || link.state === 'expired';
  return <MessagePage title={ended ? 'Already ended' : 'Nothing to end'} kind="ok" message={nothingToEnd(link)} />;
}

/**
 * The "End this delegation" link of every email to a client admin about a delegation
 * (services/mail/end-links.ts). No sign-in: the signed key is the proof, so a partner that
 * keeps resetting the admin's password cannot keep the client from leaving. GET only shows
 * a confirmation; the POST (CSRF double-submit, key checked again) ends it, once.
 */
export function registerEndLinkPages(app: WebApp): void {
  app.get('/end/:delegationId/:key', async (c) => {
    const link = await resolveEndLink(c.var.deps, c.req.param('delegationId'), c.req.param('key'));
    if (!link) throw nothingHere();
    if (!canEnd(link.state)) return renderPage(c, <NothingToEnd link={link} />);
    const action = `/end/${encodeURIComponent(link.delegationId)}/${encodeURIComponent(c.req.param('key'))}`;
    return renderPage(c, <EndDelegationPage link={link} csrf={csrfToken(c)} action={action} />);
  });

  app.post('/end/:delegationId/:key', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    await c.var.deps.rateLimits.consume('endLinkPerIp', clientIp(c));
    const result = await endDelegationByLink(
      c.var.deps,
      c.req.param('delegationId'),
      c.req.param('key'),
      c.var.requestId,
    );
    if (result.outcome === 'already-ended') return renderPage(c, <NothingToEnd link={result.link} />);
    const { partnerName, clientName } = result.link;
    return renderPage(
      c,
      <MessagePage
        title="Delegation ended"
        kind="ok"
        message={`The delegation has been ended: ${partnerName} can no longer act in ${clientName}. Both sides have been emailed.`}
      />,
    );
  });
}
