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
 * Attempts allowed per window. Sign-in failures are counted per account (so guessing one
 * password is slow) and attempts per address (so trying many accounts is slow too).
 */
export const rateLimitRules = {
  signInPerIp: { points: 30, duration: 15 * 60 },
  /** Failures for one account from one address: the ordinary "wrong password" lockout. */
  signInFailuresPerAccountAndIp: { points: 5, duration: 15 * 60 },
  /**
   * Failures for one account from anywhere: caps guessing spread over many addresses,
   * high enough that a stranger cannot lock a person out with a handful of tries.
   */
  signInFailuresPerAccount: { points: 20, duration: 15 * 60 },
  /**
   * Codes tried at the second step (or to turn two-factor off) for one account: counted
   * before the check and given back when right, like the password. Only someone who
   * knows the password gets here, so it cannot lock out a stranger's account; five
   * guesses of a 6-digit code per quarter hour make guessing hopeless.
   */
  secondFactorFailuresPerAccount: { points: 5, duration: 15 * 60 },
  createOrgPerIp: { points: 10, duration: 60 * 60 },
  acceptPerIp: { points: 30, duration: 15 * 60 },
  acceptPerAccount: { points: 10, duration: 15 * 60 },
  /** Confirmations on "End this delegation" pages (no account: counted per address only). */
  endLinkPerIp: { points: 30, duration: 15 * 60 },
} as const;

export type RateLimitName = keyof typeof rateLimitRules;

export interface RateLimits {
  /** Counts one attempt; throws RATE_LIMITED (with retryAfterSeconds) when over the limit. */
  consume(name: RateLimitName, key: string): Promise<void>;
  /** Gives back one counted attempt (a sign-in that turned out right). */
  refund(name: RateLimitName, key: string): Promise<void>;
  /** Throws RATE_LIMITED if `key` is already over the limit, without counting. */
  check(name: RateLimitName, key: string): Promise<void>;
}

function limited(res: RateLimiterRes): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppError('RATE_LIMITED', 'Too many attempts. Wait a little and try again.', {
    details: { retryAfterSeconds },
  });
}

/**
 * Redis-backed limits shared by every API process, with an in-memory stand-in while
 * Redis is unreachable (limits then hold per process instead of failing open).
 */
export function createRateLimits(redis: Redis, prefix: string): RateLimits {
  return limitsOver((name, rule) => {
    return new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:rl:${name}`,
      points: rule.points,
      duration: rule.duration,
      insuranceLimiter: new RateLimiterMemory({ points: rule.points, duration: rule.duration }),
    });
  });
}

/**
 * The same limits kept in PostgreSQL (the `rate_limits` table), for when the queues run
 * on PostgreSQL and there is no Redis.
 */
export function createDatabaseRateLimits(db: Db): RateLimits {
  return limitsOver(
    (name, rule) =>
      new RateLimiterDrizzle({
        storeClient: db,
        schema: rateLimits,
        keyPrefix: `rl:${name}`,
        points: rule.points,
        duration: rule.duration,
        insuranceLimiter: new RateLimiterMemory({ points: rule.points, duration: rule.duration }),
      }),
  );
}

function limitsOver(
  make: (name: RateLimitName, rule: (typeof rateLimitRules)[RateLimitName]) => RateLimiterAbstract,
): RateLimits {
  const limiters = Object.fromEntries(
    (Object.keys(rateLimitRules) as RateLimitName[]).map((name) => [name, make(name, rateLimitRules[name])]),
  ) as Record<RateLimitName, RateLimiterAbstract>;

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
      if (res && res.consumedPoints >= rateLimitRules[name].points) throw limited(res);
    },
  };
}
