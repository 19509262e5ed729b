import { randomBytes } from 'node:crypto';
import { type CreatedPartner, createPartner } from '../../services/partners.ts';
import type { TestStack } from './stack.ts';

/** A partner with its owner, under a unique name and address. */
export function createTestPartner(stack: TestStack, name?: string): Promise<CreatedPartner> {
  const tag = randomBytes(4).toString('hex');
  return createPartner(stack.deps.db, { name: name ?? `Partner ${tag}`, ownerEmail: `owner-${tag}@partner.example` });
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
    json: { name: 'Test offer', access: 'limited', ...body },
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
