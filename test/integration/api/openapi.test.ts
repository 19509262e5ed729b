import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../api/openapi.ts';
import { createWebApp } from '../../../api/web/app.ts';
import { tokenScopes } from '../../../core/token-scopes.ts';
import { documentedRoutes } from '../../helpers/api-routes.ts';
import { createTestPartner, createTestStaff } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

interface Operation {
  security?: unknown;
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, unknown> }>;
}
type Document = { paths: Record<string, Record<string, Operation>> };

let stack: TestStack;
let document: Document;

beforeAll(async () => {
  stack = await createTestStack();
  document = (await (await stack.request('/openapi.json')).json()) as Document;
});
afterAll(() => stack.close());

/** Every operation of the partner API, with what it takes. */
function apiOperations() {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    path.startsWith('/v1/')
      ? Object.entries(operations).map(([method, operation]) => ({
          name: `${method.toUpperCase()} ${path}`,
          method: method.toUpperCase(),
          path,
          operation,
          documented: Object.keys(operation.responses),
        }))
      : [],
  );
}

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validated = (await SwaggerParser.validate(
      structuredClone(document) as unknown as Parameters<typeof SwaggerParser.validate>[0],
    )) as unknown as { openapi: string };
    expect(validated.openapi).toBe('3.1.0');
  });

  it('is the document built from the routes alone, which the lint and the CLI types read', () => {
    expect(document).toEqual(JSON.parse(JSON.stringify(openApiDocument(stack.config.publicUrl))));
  });

  it('documents exactly the routes the app serves', async () => {
    const documented = (await documentedRoutes(stack)).map(
      (r) => `${r.method} ${r.path.replace(/\{([^}]+)\}/g, ':$1')}`,
    );
    // Not part of the partner API: the HTML pages (offer links, the client's pages, the
    // dashboard and job board, `/` that leads there) and the API reference that renders
    // this very document.
    const pages = new Set(createWebApp(stack.deps).routes.map((r) => r.path));
    const served = stack.app.routes
      .filter((r) => r.method !== 'ALL' && r.path !== '/openapi.json' && !pages.has(r.path))
      .filter((r) => r.path !== '/' && r.path !== '/docs' && !r.path.startsWith('/docs/'))
      .map((r) => `${r.method} ${r.path}`);
    expect(new Set(served)).toEqual(new Set(documented));
    // Every route under /v1 in particular, whatever the filters above let through.
    const v1 = stack.app.routes.filter((r) => r.method !== 'ALL' && r.path.startsWith('/v1/'));
    for (const route of v1)
      expect(documented, `${route.method} ${route.path}`).toContain(`${route.method} ${route.path}`);
  });

  it('gives every /v1 operation bearer security and problem+json errors', () => {
    for (const { name, operation } of apiOperations()) {
      // One scope of the table each (api/auth.ts enforces it); none only where the route
      // judges scopes itself: creating and revoking tokens.
      const unscoped = name === 'POST /v1/tokens' || name === 'DELETE /v1/tokens/{id}';
      expect(operation.security, name).toEqual([{ bearer: unscoped ? [] : [expect.toBeOneOf(tokenScopes)] }]);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        expect(Object.keys(response.content ?? {}), `${name} → ${status}`).toEqual(['application/problem+json']);
      }
    }
  });

  it('documents the errors each /v1 operation can answer', () => {
    const missing: string[] = [];
    for (const { name, method, operation, documented } of apiOperations()) {
      const expected = ['401']; // every route needs a token
      const params = operation.parameters ?? [];
      // Any parameter (path, query, the Idempotency-Key header) or body is validated.
      if (params.length > 0 || operation.requestBody) expected.push('422');
      // Path parameters name a resource, which may not exist (or not be the caller's).
      if (params.some((p) => p.in === 'path')) expected.push('404');
      // Every change needs some staff access; a scope (or the partner's two-factor policy) may refuse any.
      expected.push('403');
      // Bodies: unreadable, too large, of another type.
      if (operation.requestBody) expected.push('400', '413', '415');
      // Idempotency-Key: the same key while the first request is still running.
      if (method === 'POST') expected.push('409');
      for (const status of expected) if (!documented.includes(status)) missing.push(`${name} → ${status}`);
    }
    expect(missing).toEqual([]);
  });

  it('documents every status the app answers to bad requests', async () => {
    const owner = await createTestPartner(stack);
    const callers = { owner: owner.token, 'staff none': await createTestStaff(stack, owner.partnerId, []) };
    const missing = `x_${'0'.repeat(32)}`;
    const tooLong = 'x'.repeat(301);
    const seen: string[] = [];
    const undocumented: string[] = [];
    for (const { name, method, path, operation, documented } of apiOperations()) {
      const fill = (value: string) => path.replace(/\{[^}]+\}/g, value);
      const probes: { label: string; path: string; init: RequestInit & { token: string } }[] = [];
      for (const [caller, token] of Object.entries(callers)) {
        probes.push({ label: `as ${caller}`, path: fill(missing), init: { method, token } });
      }
      if (path.includes('{'))
        probes.push({ label: 'long id', path: fill(tooLong), init: { method, token: owner.token } });
      if (operation.requestBody) {
        const json = { 'content-type': 'application/json' };
        probes.push(
          { label: 'bad JSON', path: fill(missing), init: { method, token: owner.token, headers: json, body: '{' } },
          {
            label: 'other type',
            path: fill(missing),
            init: { method, token: owner.token, headers: { 'content-type': 'text/plain' }, body: 'x' },
          },
        );
      }
      if (method === 'POST') {
        const headers = { 'idempotency-key': 'k'.repeat(201) };
        probes.push({ label: 'bad key', path: fill(missing), init: { method, token: owner.token, headers } });
      }
      for (const probe of probes) {
        const response = await stack.request(probe.path, probe.init);
        await response.body?.cancel();
        seen.push(String(response.status));
        if (!documented.includes(String(response.status))) {
          undocumented.push(`${name} (${probe.label}) → ${response.status}`);
        }
      }
    }
    expect(undocumented).toEqual([]);
    // The probes did reach past authentication.
    expect(seen).toEqual(expect.arrayContaining(['403', '404', '415', '422']));
  });
});

describe('roles in /openapi.json', () => {
  it('publishes the role catalogue as an enum, each role described', () => {
    const doc = document as unknown as {
      components: { schemas: Record<string, { enum?: string[]; description?: string }> };
    };
    expect(doc.components.schemas.Role?.enum).toEqual([
      'directory_reader',
      'password_admin',
      'helpdesk_admin',
      'user_admin',
      'domain_admin',
      'privileged_auth_admin',
      'global_admin',
    ]);
    for (const role of doc.components.schemas.Role?.enum ?? []) {
      expect(doc.components.schemas.Role?.description).toContain(`\`${role}\``);
    }
  });

  it.each([
    ['GET /v1/delegations/{id}/users', { list_users: 'directory_reader' }],
    ['POST /v1/delegations/{id}/users', { provision_user: 'user_admin' }],
    [
      'POST /v1/delegations/{id}/users/{userId}/password-reset',
      { reset_password_non_admin: 'password_admin', reset_password_admin: 'privileged_auth_admin' },
    ],
    ['GET /v1/delegations/{id}/domains', { list_domains: 'directory_reader' }],
    ['POST /v1/delegations/{id}/domains', { add_domain: 'domain_admin' }],
    ['POST /v1/delegations/{id}/domains/{name}/verify', { verify_domain: 'domain_admin' }],
  ])('%s names the least role it needs', (name, least) => {
    const operation = apiOperations().find((o) => o.name === name)?.operation as
      | (Operation & { 'x-roles'?: Record<string, string[]>; description?: string })
      | undefined;
    for (const [capability, role] of Object.entries(least)) {
      expect(operation?.['x-roles']?.[capability]?.[0]).toBe(role);
      expect(operation?.['x-roles']?.[capability]?.at(-1)).toBe('global_admin');
      expect(operation?.description).toContain(`\`${role}\``);
    }
  });
});
