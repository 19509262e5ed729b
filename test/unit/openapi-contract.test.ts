import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { API_TYPES_PATH, contractDocument, generateApiTypes } from '../../bin/openapi-contract.ts';

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface Operation {
  operationId?: string;
  security?: unknown;
}

/** Every operation of the document the routes build (the one /openapi.json serves). */
function operations() {
  const paths = contractDocument().paths as Record<string, Partial<Record<(typeof methods)[number], Operation>>>;
  return Object.entries(paths).flatMap(([path, item]) =>
    methods.flatMap((method) => {
      const operation = item[method];
      return operation ? [{ name: `${method.toUpperCase()} ${path}`, operation }] : [];
    }),
  );
}

describe('the OpenAPI contract', () => {
  it('names every operation with its own camelCase operationId', () => {
    const all = operations();
    expect(all.length).toBeGreaterThan(30);
    const ids = new Map<string, string[]>();
    for (const { name, operation } of all) {
      expect(operation.operationId, name).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      ids.set(operation.operationId ?? '', [...(ids.get(operation.operationId ?? '') ?? []), name]);
    }
    const shared = [...ids].filter(([, names]) => names.length > 1);
    expect(shared).toEqual([]);
  });

  it('says who may call every operation: its security, or `security: []` for the public ones', () => {
    const undeclared = operations().filter(({ operation }) => !Array.isArray(operation.security));
    expect(undeclared.map((o) => o.name)).toEqual([]);
    const open = operations().filter(({ operation }) => (operation.security as unknown[]).length === 0);
    expect(open.map((o) => o.name).sort()).toEqual(['GET /healthz', 'GET /readyz']);
  });

  it('cli/api-types.ts is what the current routes generate (`npm run openapi:types` writes it)', async () => {
    expect(await readFile(API_TYPES_PATH, 'utf8')).toBe(await generateApiTypes());
  });
});
