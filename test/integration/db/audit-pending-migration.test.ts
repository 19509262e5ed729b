import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Migration 0025 gives each operation in flight its one pending row from the rows of the
 * old three-row trail: the newest asking only, so an earlier asker's row keeps what it said.
 */
let stack: TestStack;
beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

const conversion = readFileSync(
  fileURLToPath(new URL('../../../db/migrations/0025_audit_pending.sql', import.meta.url)),
  'utf8',
);

it('turns the newest asking row of an operation in flight into its pending row, and nothing else', async () => {
  const sql = stack.deps.sql;
  // Operations as the old trail knew them, in a table of their own (the conversion reads only id, kind and state).
  await sql.unsafe(`create temp table ops (id text, kind text, state text);
    insert into ops values ('op_retried', 'verify_domain', 'queued'), ('op_asked', 'add_domain', 'running'),
      ('op_done', 'add_domain', 'succeeded')`);
  await sql`insert into audit_events (actor_user_id, partner_id, org_id, action, target_type, target_id, outcome, detail, created_at) values
    ('usr_alice', 'org_p', 'org_c', 'operation.request.verify_domain', 'operation', 'op_retried', 'succeeded', '{}', '2026-11-01'),
    (null, 'org_p', 'org_c', 'operation.verify_domain', 'operation', 'op_retried', 'failed', '{"error":"deadline"}', '2026-11-02'),
    ('usr_bob', 'org_p', 'org_c', 'operation.retry.verify_domain', 'operation', 'op_retried', 'succeeded', '{}', '2026-11-03'),
    ('usr_carol', 'org_p', 'org_c', 'operation.request.add_domain', 'operation', 'op_asked', 'succeeded', '{}', '2026-11-04'),
    ('usr_dan', 'org_p', 'org_c', 'operation.request.add_domain', 'operation', 'op_done', 'succeeded', '{}', '2026-11-05'),
    ('usr_dan', 'org_p', 'org_c', 'operation.add_domain', 'operation', 'op_done', 'succeeded', '{}', '2026-11-05')`;
  await sql.unsafe(conversion.replaceAll('"operations"', 'ops'));
  const rows = await sql`select actor_user_id as who, action, outcome from audit_events
    where target_id in ('op_retried', 'op_asked', 'op_done') order by id`;
  expect(rows.map((r) => `${r.who ?? 'system'} ${r.action} ${r.outcome}`)).toEqual([
    'usr_alice operation.request.verify_domain succeeded',
    'system operation.verify_domain failed',
    'usr_bob operation.retry.verify_domain pending',
    'usr_carol operation.add_domain pending',
    'usr_dan operation.request.add_domain succeeded',
    'usr_dan operation.add_domain succeeded',
  ]);
});
