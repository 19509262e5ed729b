import {
  type RateLimiterAbstract,
  RateLimiterDrizzle,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { AppError } from '../core/errors.ts';
import type { Db } from '../db/client.ts';
import { rateLimits } from '../db/schema/index.ts';
import type { Redis } from './redis.ts';

/**
 * Attempts allowed per window. Sign-in is guarded three ways: attempts per address (so
 * trying many accounts is slow), a growing wait per account and address
 * ({@link growingDelayRules}: so guessing one password from one place is slow), and
 * failures per account (so guessing spread over many addresses is slow too).
 */
export const rateLimitRules = {
  /** Sign-in attempts from one address, whatever the account: a client spraying many accounts. */
  signInPerIp: { points: 30, duration: 15 * 60 },
  /**
   * Wrong current passwords at /account/password, for one account from one address
   * (a session alone must not be enough to guess the password). Sign-in itself uses the
   * growing wait of `signInWaitPerAccountAndIp` instead.
   */
  signInFailuresPerAccountAndIp: { points: 5, duration: 15 * 60 },
  /**
   * Failures for one account from anywhere, counted with `count` (never refused here):
   * when it is reached, services/accounts/sign-in-attempts.ts holds the sign-ins of an
   * account without a second factor until the hour is over — a right password with two-factor
   * sign-in on still goes on to the code — and tells the account's owners. Slower than the
   * per-address wait: 20 an hour, where the old 20 a quarter hour let a guesser with many
   * addresses try 80 an hour against an account without a second factor.
   */
  signInFailuresPerAccount: { points: 20, duration: 60 * 60 },
  /** One lockout notice (email and audit event) per account per window of the limit above. */
  signInLockoutNotice: { points: 1, duration: 60 * 60 },
  /**
   * Wrong one-time codes (at the second step, for a step-up, to turn two-factor off) for
   * one account from one address: counted before the check and given back when right,
   * like the password. A guesser's address waits; the owner's, elsewhere, does not.
   */
  secondFactorFailuresPerAccountAndIp: { points: 5, duration: 15 * 60 },
  /**
   * Wrong one-time codes for one account from everywhere: someone who holds the password
   * and many addresses still gets 20 guesses of a 6-digit code an hour (hopeless). Past
   * it, one-time codes wait for the account — but recovery codes (100 random bits) and
   * passkeys do not, so a stranger cannot lock the owner out with it.
   */
  secondFactorFailuresPerAccount: { points: 20, duration: 60 * 60 },
  /**
   * Passkey challenges asked for from one address (to sign in, for the second step, a
   * step-up or a new passkey): each is a row until it expires. The answers then count against
   * `signInPerIp` like passwords (a passkey's signature cannot be guessed, so no
   * per-account limit is needed for passkeys alone).
   */
  passkeyChallengesPerIp: { points: 60, duration: 15 * 60 },
  /**
   * Single sign-on started from one address (each makes a row and a trip to a provider);
   * the provider guards the sign-in itself.
   */
  ssoStartPerIp: { points: 30, duration: 15 * 60 },
  /**
   * Records of one refused API request (api/app.ts, `api.denied`) per token, route and
   * code: one a minute, so a caller repeating a refusal cannot flood the partner's trail.
   */
  deniedRecordPerTokenRoute: { points: 1, duration: 60 },
  createOrgPerIp: { points: 10, duration: 60 * 60 },
  acceptPerIp: { points: 30, duration: 15 * 60 },
  acceptPerAccount: { points: 10, duration: 15 * 60 },
  /**
   * Staff invitations one partner sends: each is an email to an address the owner typed,
   * so this bounds how much mail a partner can make Mandate send (a re-invitation replaces
   * the pending one, but still sends).
   */
  staffInvitationsPerPartner: { points: 100, duration: 60 * 60 },
  /** Confirmations on "End this delegation" pages (no account: counted per address only). */
  endLinkPerIp: { points: 30, duration: 15 * 60 },
  /**
   * Test events and redeliveries asked for, per webhook endpoint: each is a delivery tried
   * for up to three days, so a loop of them would fill the webhook queue for everyone and
   * aim Mandate's requests at a URL of the asker's choosing.
   */
  webhookSendsPerEndpoint: { points: 30, duration: 60 * 60 },
} as const;

export interface GrowingDelayRule {
  /** Failures that cost nothing. */
  free: number;
  /** The wait after the `free`-th failure, in seconds; each further failure doubles it. */
  firstWaitSeconds: number;
  /** The longest wait, in seconds. */
  maxWaitSeconds: number;
  /** How long failures are remembered, in seconds, counted from the first. */
  memorySeconds: number;
}

/**
 * Waits that grow with each failure, for one key: the person who mistyped a few times
 * hardly notices; a guesser at one address gets ever slower, and only that address waits.
 */
export const growingDelayRules = {
  /**
   * Sign-in failures for one account from one address: 5 free, then 30 s, 1, 2, 4, 8 and
   * at most 15 minutes between attempts, remembered for a day (until a right password).
   */
  signInWaitPerAccountAndIp: { free: 5, firstWaitSeconds: 30, maxWaitSeconds: 15 * 60, memorySeconds: 24 * 60 * 60 },
} as const satisfies Record<string, GrowingDelayRule>;

export type RateLimitName = keyof typeof rateLimitRules;
export type GrowingDelayName = keyof typeof growingDelayRules;

/** The wait, in seconds, that `failures` failures impose before the next attempt (0 while free). */
export function waitAfterFailure(rule: GrowingDelayRule, failures: number): number {
  if (failures < rule.free) return 0;
  return Math.min(rule.maxWaitSeconds, rule.firstWaitSeconds * 2 ** Math.min(failures - rule.free, 30));
}

/**
 * How long an attempt past the free ones holds its key's single slot while it is being
 * checked: parallel attempts are refused meanwhile. A failure replaces it by the wait,
 * a success removes it; only a request that dies half way leaves it to expire.
 */
const SLOT_SECONDS = 10;

export interface RateLimits {
  /** Counts one attempt; throws RATE_LIMITED (with retryAfterSeconds) when over the limit. */
  consume(name: RateLimitName, key: string): Promise<void>;
  /** Gives back one counted attempt (a sign-in that turned out right). */
  refund(name: RateLimitName, key: string): Promise<void>;
  /** Throws RATE_LIMITED if `key` is already over the limit, without counting. */
  check(name: RateLimitName, key: string): Promise<void>;
  /**
   * Counts one attempt and never refuses: returns how many the window holds now, this one
   * included, and the seconds until the window ends (the caller decides what "over" does).
   */
  count(name: RateLimitName, key: string): Promise<{ count: number; retryAfterSeconds: number }>;
  /**
   * Counts an attempt under a growing delay and returns its number (this one included).
   * From the `free`-th attempt on, one attempt at a time, and only once the wait set by the
   * last failure is over; otherwise throws RATE_LIMITED and the attempt is not counted.
   */
  startDelayed(name: GrowingDelayName, key: string): Promise<number>;
  /** Attempt number `attempt` failed: sets the wait before the next one; returns it in seconds (0 while free). */
  failDelayed(name: GrowingDelayName, key: string, attempt: number): Promise<number>;
  /** The attempt was right: forgets the key's failures and its wait. */
  clearDelayed(name: GrowingDelayName, key: string): Promise<void>;
}

export interface RateLimitOptions {
  /** Other rules for some limits (tests that must see a wait pass). Default: none. */
  rules?: Partial<Record<RateLimitName, { points: number; duration: number }>>;
  /** Other rules for some growing delays. Default: none. */
  delays?: Partial<Record<GrowingDelayName, GrowingDelayRule>>;
}

/** The one answer to every attempt a limit refuses, whichever limit it was. */
export function tooManyAttempts(retryAfterSeconds: number): AppError {
  return new AppError('RATE_LIMITED', 'Too many attempts. Wait a little and try again.', {
    details: { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)) },
  });
}

function limited(res: RateLimiterRes): AppError {
  return tooManyAttempts(res.msBeforeNext / 1000);
}

/** A limiter in some store: `points` per `duration` seconds, under `keyPrefix`. */
type MakeLimiter = (keyPrefix: string, points: number, duration: number) => RateLimiterAbstract;

/**
 * Redis-backed limits shared by every API process, with an in-memory stand-in while
 * Redis is unreachable (limits then hold per process instead of failing open).
 */
export function createRateLimits(redis: Redis, prefix: string, options: RateLimitOptions = {}): RateLimits {
  return limitsOver(
    (keyPrefix, points, duration) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${prefix}:rl:${keyPrefix}`,
        points,
        duration,
        insuranceLimiter: new RateLimiterMemory({ points, duration }),
      }),
    options,
  );
}

/**
 * The same limits kept in PostgreSQL (the `rate_limits` table), for when the queues run
 * on PostgreSQL and there is no Redis.
 */
export function createDatabaseRateLimits(db: Db, options: RateLimitOptions = {}): RateLimits {
  return limitsOver(
    (keyPrefix, points, duration) =>
      new RateLimiterDrizzle({
        storeClient: db,
        schema: rateLimits,
        keyPrefix: `rl:${keyPrefix}`,
        points,
        duration,
        insuranceLimiter: new RateLimiterMemory({ points, duration }),
      }),
    options,
  );
}

function limitsOver(make: MakeLimiter, options: RateLimitOptions): RateLimits {
  const rules = { ...rateLimitRules, ...options.rules };
  const delayRules = { ...growingDelayRules, ...options.delays };
  const limiters = Object.fromEntries(
    (Object.keys(rateLimitRules) as RateLimitName[]).map((name) => [
      name,
      make(name, rules[name].points, rules[name].duration),
    ]),
  ) as Record<RateLimitName, RateLimiterAbstract>;
  // Per growing delay, two limiters: the failures (a counter that never refuses) and the
  // slot — free, taken by the one attempt being checked, or blocked for the wait.
  const delays = Object.fromEntries(
    (Object.keys(growingDelayRules) as GrowingDelayName[]).map((name) => {
      const rule = delayRules[name];
      return [
        name,
        {
          rule,
          failures: make(name, Number.MAX_SAFE_INTEGER, rule.memorySeconds),
          slot: make(`${name}:slot`, 1, SLOT_SECONDS),
        },
      ];
    }),
  ) as Record<GrowingDelayName, { rule: GrowingDelayRule; failures: RateLimiterAbstract; slot: RateLimiterAbstract }>;

  return {
    async consume(name, key) {
      try {
        await limiters[name].consume(key.toLowerCase());
      } catch (error) {
        if (error instanceof RateLimiterRes) throw limited(error);
        throw error;
      }
    },
    async refund(name, key) {
      await limiters[name].reward(key.toLowerCase(), 1);
    },
    async check(name, key) {
      const res = await limiters[name].get(key.toLowerCase());
      if (res && res.consumedPoints >= rules[name].points) throw limited(res);
    },
    async count(name, key) {
      const res = await limiters[name].penalty(key.toLowerCase(), 1);
      return { count: res.consumedPoints, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
    },
    async startDelayed(name, key) {
      const { rule, failures, slot } = delays[name];
      const k = key.toLowerCase();
      const attempt = (await failures.penalty(k, 1)).consumedPoints;
      if (attempt >= rule.free) {
        try {
          await slot.consume(k);
        } catch (error) {
          await failures.reward(k, 1);
          if (error instanceof RateLimiterRes) throw limited(error);
          throw error;
        }
      }
      return attempt;
    },
    async failDelayed(name, key, attempt) {
      const wait = waitAfterFailure(delays[name].rule, attempt);
      if (wait > 0) await delays[name].slot.block(key.toLowerCase(), wait);
      return wait;
    },
    async clearDelayed(name, key) {
      const k = key.toLowerCase();
      await Promise.all([delays[name].failures.delete(k), delays[name].slot.delete(k)]);
    },
  };
}
