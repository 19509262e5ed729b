import { describe, expect, it } from 'vitest';
import {
  type AmendmentEvent,
  type AmendmentState,
  amendmentEvents,
  amendmentStates,
  nextAmendmentState,
} from '../../core/amendment-machine.ts';
import { AppError } from '../../core/errors.ts';

/** Written out independently of the table: only a pending amendment moves, once. */
const expected: Record<string, AmendmentState> = {
  'pending/accept': 'applied',
  'pending/decline': 'declined',
  'pending/expire': 'expired',
  'pending/cancel': 'cancelled',
};

const pairs = amendmentStates.flatMap((state) => amendmentEvents.map((event) => [state, event] as const));

describe('amendment state machine', () => {
  it('covers 5 states and 4 events (20 pairs)', () => {
    expect(pairs).toHaveLength(20);
  });

  it.each(pairs)('%s + %s', (state: AmendmentState, event: AmendmentEvent) => {
    const to = expected[`${state}/${event}`];
    if (to) {
      expect(nextAmendmentState(state, event)).toBe(to);
      return;
    }
    let thrown: unknown;
    try {
      nextAmendmentState(state, event);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe('INVALID_TRANSITION');
    expect((thrown as AppError).details).toEqual({ from: state, event });
  });
});
