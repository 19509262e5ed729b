import { randomBytes } from 'node:crypto';
import { tokenScopes } from '../../core/token-scopes.ts';
import { newApiToken, sha256Hex } from '../../lib/secrets.ts';
import { type CreatedPartner, createPartner } from '../../services/accounts/partners.ts';
import type { TestStack } from './stack.ts';

/** Every scope: the tokens the tests insert are ordinary tokens of their holder. */
const allScopes = [...tokenScopes];

/** A partner with its owner, under a unique name and address. */
export function createTestPartner(stack: TestStack, name?: string): Promise<CreatedPartner> {
  const tag = randomBytes(4).toString('hex');
  // Without the two-factor policy new partners get: the tests of that policy turn it on.
  return createPartner(stack.deps.db, {
    name: name ?? `Partner ${tag}`,
    ownerEmail: `owner-${tag}@partner.example`,
    requireTwoFactor: false,
  });
}

/** An offer created through the API; returns the 201 body. */
export async function createTestOffer(
  stack: TestStack,
  token: string,
  body: Record<string, unknown> = {},
): Promise<{ id: string; url: string; [key: string]: unknown }> {
  const response = await stack.request('/v1/offers', {
    method: 'POST',
    token,
    json: { name: 'Test offer', ...('roles' in body ? {} : { access: 'limited' }), ...body },
  });
  if (response.status !== 201) throw new Error(`offer not created: ${response.status} ${await response.text()}`);
  return response.json() as Promise<{ id: string; url: string }>;
}

/** Waits until `check` returns a truthy value, polling every 50 ms. */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Row counts of every table of the schema (read from the catalogue, so a table added later
 * is counted too): compare before and after to show a request wrote nothing — but the
 * record of its refusal (`api.denied`, api/app.ts), which is the point of a refusal.
 */
export async function rowCounts(stack: TestStack): Promise<Record<string, number>> {
  const tables = await stack.deps.sql<{ name: string }[]>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const only = name === 'audit_events' ? ` where action <> 'api.denied'` : '';
    const [row] = await stack.deps.sql.unsafe(`select count(*)::int as n from "${name}"${only}`);
    counts[name] = (row as unknown as { n: number }).n;
  }
  return counts;
}

/** Reads a problem+json response and checks its shape. */
export async function readProblem(
  response: Response,
): Promise<{ code: string; status: number; detail: string; errors?: { path: string; message: string }[] }> {
  if (!response.headers.get('content-type')?.startsWith('application/problem+json')) {
    throw new Error(`expected problem+json, got ${response.headers.get('content-type')}: ${await response.text()}`);
  }
  const body = (await response.json()) as { code: string; status: number; type: string; title: string; detail: string };
  if (body.status !== response.status || typeof body.type !== 'string' || typeof body.title !== 'string') {
    throw new Error(`malformed problem document: ${JSON.stringify(body)}`);
  }
  return body;
}

/**
 * A non-owner partner user with the given staff roles and an API token, inserted
 * directly (the staff API arrives later). Returns its token.
 */
export async function createTestStaff(stack: TestStack, partnerId: string, roles: string[]): Promise<string> {
  const tag = randomBytes(4).toString('hex');
  const userId = `usr_${randomBytes(16).toString('hex')}`;
  const token = newApiToken();
  await stack.deps.sql`insert into users (id, org_id, email, display_name, password_hash)
    values (${userId}, ${partnerId}, ${`staff-${tag}@partner.example`}, 'Staff', 'x')`;
  await stack.deps.sql`insert into staff_access (user_id, partner_id, roles, is_owner)
    values (${userId}, ${partnerId}, ${roles}, false)`;
  await stack.deps.sql`insert into api_tokens (id, user_id, org_id, token_hash, label, scopes)
    values (${`tok_${randomBytes(16).toString('hex')}`}, ${userId}, ${partnerId}, ${sha256Hex(token)}, 'test', ${allScopes})`;
  return token;
}

/** A client organization with a global admin who (wrongly) holds an API token. Returns the token. */
export async function createTestClientWithToken(stack: TestStack): Promise<string> {
  const orgId = `org_${randomBytes(16).toString('hex')}`;
  const userId = `usr_${randomBytes(16).toString('hex')}`;
  const token = newApiToken();
  await stack.deps.sql`insert into organizations (id, kind, name) values (${orgId}, 'client', 'Client')`;
  await stack.deps.sql`insert into users (id, org_id, email, display_name, password_hash, is_global_admin)
    values (${userId}, ${orgId}, ${`admin-${orgId}@client.example`}, 'Admin', 'x', true)`;
  await stack.deps.sql`insert into api_tokens (id, user_id, org_id, token_hash, label, scopes)
    values (${`tok_${randomBytes(16).toString('hex')}`}, ${userId}, ${orgId}, ${sha256Hex(token)}, 'test', ${allScopes})`;
  return token;
}
