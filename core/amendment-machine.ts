import { AppError } from './errors.ts';

/**
 * Every state an amendment can be in. A reduction is created `applied` (the partner may
 * give up what it holds at any time); an addition is created `pending` and waits for the
 * client's answer (docs/adr/0010-consent-and-amendments.md).
 */
export const amendmentStates = ['pending', 'applied', 'declined', 'expired', 'cancelled'] as const;
export type AmendmentState = (typeof amendmentStates)[number];

/** What an amendment changes: gives up part of the grant, or asks for more. */
export const amendmentKinds = ['reduction', 'addition'] as const;
export type AmendmentKind = (typeof amendmentKinds)[number];

/** Everything that can happen to a pending amendment. */
export const amendmentEvents = [
  /** A global admin of the client organization said yes: it applies to the delegation. */
  'accept',
  /** A global admin of the client organization said no: nothing changes. */
  'decline',
  /** Nobody answered within AMENDMENT_ANSWER_DAYS: nothing changes. */
  'expire',
  /** The delegation stopped being active before anyone answered: nothing is left to change. */
  'cancel',
] as const;
export type AmendmentEvent = (typeof amendmentEvents)[number];

/** A pending amendment waits this long for the client's answer. */
export const AMENDMENT_ANSWER_DAYS = 30;

/**
 * The transition table. Only `pending` moves; every other state is final, so an
 * amendment is answered at most once whatever arrives twice (two clicks, two admins).
 */
export const amendmentTransitions: {
  readonly [S in AmendmentState]: Partial<Readonly<Record<AmendmentEvent, AmendmentState>>>;
} = {
  pending: { accept: 'applied', decline: 'declined', expire: 'expired', cancel: 'cancelled' },
  applied: {},
  declined: {},
  expired: {},
  cancelled: {},
};

export function canAmendmentTransition(from: AmendmentState, event: AmendmentEvent): boolean {
  return amendmentTransitions[from][event] !== undefined;
}

/** The state `event` leads to from `from`, or INVALID_TRANSITION naming both. Pure. */
export function nextAmendmentState(from: AmendmentState, event: AmendmentEvent): AmendmentState {
  const to = amendmentTransitions[from][event];
  if (to === undefined) {
    throw new AppError('INVALID_TRANSITION', `An amendment that is ${from} cannot take the event ${event}`, {
      details: { from, event },
    });
  }
  return to;
}
