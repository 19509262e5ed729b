import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { migrateAll } from '../lib/migrate.ts';
import { testServices } from './helpers/services.ts';

declare module 'vitest' {
  interface ProvidedContext {
    /** A migrated database that each test file clones (CREATE DATABASE … TEMPLATE). */
    templateDatabase: string;
  }
}

async function assertReachable(): Promise<void> {
  const pg = postgres(testServices.postgresUrl, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await pg`select 1`;
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${testServices.postgresUrl} (set TEST_DATABASE_URL): ${(error as Error).message}`,
    );
  } finally {
    await pg.end({ timeout: 1 });
  }
  const redis = new Redis(testServices.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${testServices.redisUrl} (set TEST_REDIS_URL): ${(error as Error).message}`,
    );
  } finally {
    redis.disconnect();
  }
}

/**
 * Runs once per `npm test`: checks the services, then migrates one template database.
 * Test files clone it, which takes milliseconds instead of a migration per file.
 */
export default async function setup(project: TestProject) {
  await assertReachable();
  const name = `mandate_tpl_${randomBytes(4).toString('hex')}`;
  // With the queue backend's tables too, so a test can run its queues on PostgreSQL.
  await migrateAll({ databaseUrl: testServices.databaseUrl(name), queueBackend: 'postgres' });
  project.provide('templateDatabase', name);

  return async () => {
    const admin = postgres(testServices.postgresUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
    } finally {
      await admin.end({ timeout: 1 });
    }
  };
}
