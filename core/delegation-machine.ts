import { AppError } from './errors.ts';

/** Every state a delegation can be in (../DESIGN.md §1). */
export const delegationStates = [
  'invited',
  'offered',
  'accepting',
  'active',
  'declined',
  'expired',
  'terminated',
  'failed',
] as const;
export type DelegationState = (typeof delegationStates)[number];

/** Everything that can happen to a delegation. */
export const delegationEvents = [
  /** The offer email was accepted by the SMTP server. */
  'send_succeeded',
  /** The offer email could not be delivered, for good (5xx, or retries exhausted). */
  'send_failed',
  /**
   * The offer email came back later: a mail server past the one that accepted it reported a
   * permanent delivery failure (an RFC 3464 report, status 5.x.x) to the bounce listener.
   */
  'bounced',
  /** An operator asks to send a failed offer email again. */
  'retry_send',
  /** The client's global admin accepted; process-acceptance will run. */
  'accept',
  /** The client's global admin declined. */
  'decline',
  /** process-acceptance granted the access. */
  'activate',
  /** process-acceptance found the access cannot be granted. */
  'activation_failed',
  /** 90 days passed without an answer. */
  'answer_timeout',
  /** The end date passed and the delegation does not auto-extend. */
  'end_reached',
  /** The end date passed and the delegation auto-extends (end += 180 days). */
  'auto_extend',
  /** The partner extended the delegation by hand (up to the 730-day cap). */
  'extend',
  /** The partner or the client ended the delegation. */
  'terminate',
  /**
   * An amendment changed the terms of the active delegation (core/amendment-machine.ts):
   * a reduction at once, an addition once the client said yes. Same delegation, same id;
   * the event's detail holds the terms before and after.
   */
  'amend',
] as const;
export type DelegationEvent = (typeof delegationEvents)[number];

/**
 * The transition table: for each state, the events it accepts and where they lead.
 * Anything not listed is an illegal transition.
 *
 * `accept` and `decline` are allowed from `invited` as well as `offered`: the link is
 * only in the offer email, so a click proves delivery even when the worker that sent
 * it has not yet recorded `offered` (or crashed just after the SMTP server took it).
 * `retry_send` lets an operator resend an offer whose email failed for good.
 *
 * `bounced` only ends a delegation still waiting for its answer: a client's yes or no, or
 * a partner's end, stands whatever a mail server reports afterwards (the report is kept,
 * services/campaigns/bounces.ts, and changes nothing).
 */
export const delegationTransitions: {
  readonly [S in DelegationState]: Partial<Readonly<Record<DelegationEvent, DelegationState>>>;
} = {
  invited: {
    send_succeeded: 'offered',
    send_failed: 'failed',
    // The email went out but its send was not yet recorded (the worker died after the
    // relay took it): its bounce proves it was sent, and that it failed.
    bounced: 'failed',
    accept: 'accepting',
    decline: 'declined',
    terminate: 'terminated',
  },
  offered: {
    bounced: 'failed',
    accept: 'accepting',
    decline: 'declined',
    answer_timeout: 'expired',
    terminate: 'terminated',
  },
  accepting: {
    activate: 'active',
    activation_failed: 'failed',
    terminate: 'terminated',
  },
  active: {
    end_reached: 'expired',
    auto_extend: 'active',
    extend: 'active',
    amend: 'active',
    terminate: 'terminated',
  },
  declined: {},
  expired: {},
  terminated: {},
  failed: {
    retry_send: 'invited',
  },
};

/** States in which a delegation grants (or is about to grant) access. At most one per partner and client. */
export const liveDelegationStates = ['accepting', 'active'] as const satisfies readonly DelegationState[];

/** States from which nothing but an operator's explicit action leads anywhere. */
export function isFinalState(state: DelegationState): boolean {
  return Object.keys(delegationTransitions[state]).every((event) => event === 'retry_send');
}

export function canTransition(from: DelegationState, event: DelegationEvent): boolean {
  return delegationTransitions[from][event] !== undefined;
}

/**
 * The state `event` leads to from `from`, or an `INVALID_TRANSITION` error naming both.
 * Pure: no I/O, no clock.
 */
export function nextDelegationState(from: DelegationState, event: DelegationEvent): DelegationState {
  const to = delegationTransitions[from][event];
  if (to === undefined) {
    throw new AppError('INVALID_TRANSITION', `A delegation that is ${from} cannot take the event ${event}`, {
      details: { from, event },
    });
  }
  return to;
}

/** Every state from which `event` is allowed: the guard of a set-based update. */
export function statesAccepting(event: DelegationEvent): DelegationState[] {
  return delegationStates.filter((state) => canTransition(state, event));
}
