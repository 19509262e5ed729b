import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPagePath } from '../../../api/web/error-page.tsx';
import { documentedRoutes } from '../../helpers/api-routes.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const response = await stack.request('/openapi.json');
    expect(response.status).toBe(200);
    const document = (await response.json()) as Parameters<typeof SwaggerParser.validate>[0];
    const validated = (await SwaggerParser.validate(structuredClone(document))) as unknown as { openapi: string };
    expect(validated.openapi).toBe('3.1.0');
  });

  it('documents exactly the routes the app serves', async () => {
    const documented = (await documentedRoutes(stack)).map(
      (r) => `${r.method} ${r.path.replace(/\{([^}]+)\}/g, ':$1')}`,
    );
    // The HTML pages (offer links, the client's pages) are not part of the partner API.
    const served = stack.app.routes
      .filter((r) => r.method !== 'ALL' && r.path !== '/openapi.json' && !isPagePath(r.path))
      .map((r) => `${r.method} ${r.path}`);
    expect(new Set(served)).toEqual(new Set(documented));
  });

  it('gives every /v1 operation bearer security and problem+json errors', async () => {
    const document = (await (await stack.request('/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<string, { security?: unknown; responses: Record<string, { content?: Record<string, unknown> }> }>
      >;
    };
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
        expect(Object.keys(operation.responses['401']?.content ?? {}), `${method} ${path}`).toEqual([
          'application/problem+json',
        ]);
      }
    }
  });
});
