import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPartner, readProblem } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/** Offers that ask for roles of the catalogue, required or optional, or for a preset. */
let stack: TestStack;
let token: string;

beforeAll(async () => {
  stack = await createTestStack();
  token = (await createTestPartner(stack)).token;
});
afterAll(async () => {
  await stack.close();
});

const create = (json: Record<string, unknown>) =>
  stack.request('/v1/offers', { method: 'POST', token, json: { name: 'Roles', ...json } });

describe('POST /v1/offers with roles', () => {
  it('answers the roles asked for, required first, and access only for an exact preset', async () => {
    const granular = await create({
      roles: [{ role: 'domain_admin', optional: true }, { role: 'user_admin' }, { role: 'directory_reader' }],
    });
    expect(granular.status).toBe(201);
    const body = (await granular.json()) as { roles: unknown; access?: string };
    expect(body.roles).toEqual([
      { role: 'directory_reader', optional: false },
      { role: 'user_admin', optional: false },
      { role: 'domain_admin', optional: true },
    ]);
    expect(body.access).toBeUndefined();

    const preset = (await (await create({ access: 'limited' })).json()) as { roles: unknown; access?: string };
    expect(preset).toMatchObject({ access: 'limited', roles: [{ role: 'password_admin', optional: false }] });
    const sameAsPreset = (await (await create({ roles: [{ role: 'global_admin' }] })).json()) as { access?: string };
    expect(sameAsPreset.access).toBe('full');
  });

  it.each([
    ['access and roles', { access: 'full', roles: [{ role: 'user_admin' }] }, 'roles'],
    ['neither', {}, 'roles'],
    ['an unknown role', { roles: [{ role: 'device_admin' }] }, 'roles/0/role'],
    ['a role twice', { roles: [{ role: 'user_admin' }, { role: 'user_admin', optional: true }] }, 'roles/1/role'],
    ['nothing required', { roles: [{ role: 'user_admin', optional: true }] }, 'roles'],
    [
      'auto-extend with global admin, even optional',
      { roles: [{ role: 'user_admin' }, { role: 'global_admin', optional: true }], autoExtend: true },
      'autoExtend',
    ],
  ])('refuses %s with 422 and creates nothing', async (_what, json, path) => {
    const [before] = await stack.deps.sql`select count(*)::int as n from offers`;
    const response = await create(json);
    expect(response.status).toBe(422);
    expect((await readProblem(response)).errors?.[0]?.path).toBe(path);
    const [after] = await stack.deps.sql`select count(*)::int as n from offers`;
    expect(after?.n).toBe(before?.n);
  });
});
