import { describe, expect, it } from 'vitest';
import {
  type DelegationEvent,
  type DelegationState,
  delegationEvents,
  delegationStates,
  isFinalState,
  nextDelegationState,
  statesAccepting,
} from '../../core/delegation-machine.ts';
import { AppError } from '../../core/errors.ts';

/**
 * The allowed transitions, written out from DESIGN.md §1 independently of the
 * implementation's table. Every pair not listed here must be refused.
 */
const expected: Record<string, DelegationState> = {
  'invited/send_succeeded': 'offered',
  'invited/send_failed': 'failed',
  'invited/bounced': 'failed',
  'invited/accept': 'accepting',
  'invited/decline': 'declined',
  'invited/terminate': 'terminated',
  'offered/bounced': 'failed',
  'offered/accept': 'accepting',
  'offered/decline': 'declined',
  'offered/answer_timeout': 'expired',
  'offered/terminate': 'terminated',
  'accepting/activate': 'active',
  'accepting/activation_failed': 'failed',
  'accepting/terminate': 'terminated',
  'active/end_reached': 'expired',
  'active/auto_extend': 'active',
  'active/extend': 'active',
  'active/amend': 'active',
  'active/terminate': 'terminated',
  'failed/retry_send': 'invited',
};

const pairs = delegationStates.flatMap((state) => delegationEvents.map((event) => [state, event] as const));

describe('delegation state machine', () => {
  it('covers all 8 states and 14 events (112 pairs)', () => {
    expect(delegationStates).toHaveLength(8);
    expect(delegationEvents).toHaveLength(14);
    expect(pairs).toHaveLength(112);
  });

  it.each(pairs)('%s + %s', (state: DelegationState, event: DelegationEvent) => {
    const to = expected[`${state}/${event}`];
    if (to) {
      expect(nextDelegationState(state, event)).toBe(to);
      return;
    }
    let thrown: unknown;
    try {
      nextDelegationState(state, event);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe('INVALID_TRANSITION');
    expect((thrown as AppError).status).toBe(409);
    expect((thrown as AppError).details).toEqual({ from: state, event });
  });

  it('lists the states an event may leave, for set-based sweeps', () => {
    expect(statesAccepting('terminate').sort()).toEqual(['accepting', 'active', 'invited', 'offered']);
    expect(statesAccepting('activate')).toEqual(['accepting']);
  });

  it('treats declined, expired, terminated and failed as final', () => {
    expect(delegationStates.filter(isFinalState).sort()).toEqual(['declined', 'expired', 'failed', 'terminated']);
  });
});
