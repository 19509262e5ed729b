/**
 * Where the tests find PostgreSQL and Redis. Defaults match a local install (and CI);
 * override with TEST_DATABASE_URL (any database on the server: used for admin work)
 * and TEST_REDIS_URL.
 */
const postgresUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const testServices = {
  postgresUrl,
  redisUrl,
  /** The URL of database `name` on the test server. */
  databaseUrl(name: string): string {
    const url = new URL(postgresUrl);
    url.pathname = `/${name}`;
    return url.toString();
  },
};
