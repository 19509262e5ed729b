import type { TestStack } from './stack.ts';

export interface DocumentedRoute {
  method: string;
  /** The OpenAPI path, e.g. `/v1/offers/{id}`. */
  path: string;
  /** The path with each parameter filled with a well-formed id that does not exist. */
  samplePath: string;
}

/** Every operation of the served OpenAPI document. */
export async function documentedRoutes(stack: TestStack): Promise<DocumentedRoute[]> {
  const document = (await (await stack.request('/openapi.json')).json()) as { paths: Record<string, object> };
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => ({
      method: method.toUpperCase(),
      path,
      samplePath: path.replace(/\{[^}]+\}/g, `x_${'0'.repeat(32)}`),
    })),
  );
}
