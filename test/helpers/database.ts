import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { testServices } from './services.ts';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own for one test file: a copy of the template
 * made by the global setup. Dropped (forcibly) by `drop()`.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = inject('templateDatabase');
  const name = `mandate_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(testServices.postgresUrl, { max: 1, onnotice: () => {} });
  try {
    // CREATE DATABASE … TEMPLATE fails if another session is copying the same
    // template at that moment; files start in parallel, so retry briefly.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.unsafe(`create database "${name}" template "${template}"`);
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  } finally {
    await admin.end({ timeout: 1 });
  }
  return { name, url: testServices.databaseUrl(name), drop: () => dropDatabase(name) };
}

/** Drops a test's database if it exists, whoever is still connected to it. */
export async function dropDatabase(name: string): Promise<void> {
  const sql = postgres(testServices.postgresUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await sql.end({ timeout: 1 });
  }
}
