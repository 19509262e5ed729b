import { renderNotice } from './layout.ts';
import type { RenderedEmail } from './offer-email.ts';

/** Who an amendment email is about. */
export interface AmendmentParties {
  partnerName: string;
  clientName: string;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** To the client's admins: the partner gave up part of its access, in effect now. */
export function amendmentReducedForClient(
  p: AmendmentParties,
  changes: string[],
  links: { manageUrl: string; endUrl: string },
): RenderedEmail {
  return renderNotice(
    `${p.partnerName} reduced its delegated administration of ${p.clientName}`,
    [
      `${p.partnerName} gave up part of its delegated administration of ${p.clientName}. This is in effect now; nothing is asked of you.`,
      ...changes,
    ],
    { label: 'See your delegations', url: links.manageUrl },
    { endUrl: links.endUrl },
  );
}

/** To each of the client's admins: the partner asks for more, with the admin's own link to answer. */
export function amendmentProposedForClient(
  p: AmendmentParties,
  changes: string[],
  links: { reviewUrl: string; endUrl: string; answerBy: Date },
): RenderedEmail {
  return renderNotice(
    `${p.partnerName} asks for more delegated administration of ${p.clientName}`,
    [
      `${p.partnerName} asks to change its delegated administration of ${p.clientName}. Nothing changes unless a global administrator of ${p.clientName} accepts.`,
      ...changes,
      `Open the link to see the terms before and after, then accept or decline (sign in as a global administrator of ${p.clientName}). Without an answer by ${day(links.answerBy)}, nothing changes.`,
    ],
    { label: 'See the change and answer', url: links.reviewUrl },
    { endUrl: links.endUrl },
  );
}

/** To both sides when a client's admin accepted or declined; `endUrl` only for the client's copy. */
export function amendmentAnsweredNotice(
  p: AmendmentParties,
  answer: 'accepted' | 'declined',
  answeredBy: string,
  changes: string[],
  endUrl?: string,
): RenderedEmail {
  const outcome =
    answer === 'accepted'
      ? 'The change is in effect now, on the same delegation.'
      : 'Nothing has changed: the delegation keeps its terms.';
  return renderNotice(
    `${p.clientName} ${answer} the change to delegated administration by ${p.partnerName}`,
    [`${answeredBy} (${p.clientName}) ${answer} the change ${p.partnerName} asked for.`, ...changes, outcome],
    undefined,
    { endUrl },
  );
}

/** To the partner's owners when the client did not answer in time. */
export function amendmentExpiredForPartner(p: AmendmentParties, changes: string[]): RenderedEmail {
  return renderNotice(`${p.clientName} did not answer your request for more delegated administration`, [
    `${p.clientName} did not answer the change you asked for in time. Nothing has changed: the delegation keeps its terms.`,
    ...changes,
  ]);
}
