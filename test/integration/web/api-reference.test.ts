import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_REFERENCE_BUNDLE_PATH } from '../../../api/web/api-reference/routes.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

describe('the API reference at /docs', () => {
  it('is a page anyone can open, rendering /openapi.json with the bundle served from here', async () => {
    const response = await stack.request('/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain(`<script nonce="`);
    expect(html).toMatch(new RegExp(`<script nonce="[^"]+" src="${API_REFERENCE_BUNDLE_PATH}">`));
    expect(html).toContain('"url": "/openapi.json"');
    expect(html).toContain('"withDefaultFonts": false');
  });

  it('loads nothing from another site, so it works offline', async () => {
    const html = await (await stack.request('/docs')).text();
    // Any absolute URL in a src or href (scripts, stylesheets, fonts, icons), or in CSS.
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/@import/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('admits exactly its own scripts: the bundle, and the inline start-up by nonce', async () => {
    const first = await stack.request('/docs');
    const html = await first.text();
    const csp = first.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1] as string);
    expect(scripts.length).toBe(2);
    for (const attributes of scripts) expect(attributes).toContain(`nonce="${nonce}"`);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(new RegExp(`script-src 'self' 'nonce-${nonce?.replace(/[+/=]/g, '\\$&')}'(;|$)`));
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-eval|https?:\/\/(?!mandate\.test)/);
    expect(first.headers.get('x-frame-options')).toBe('DENY');
    // A fresh nonce per response.
    const second = await stack.request('/docs');
    await second.body?.cancel();
    expect(second.headers.get('content-security-policy')).not.toContain(`'nonce-${nonce}'`);
  });

  it('serves the Scalar bundle as JavaScript, compressed and cacheable', async () => {
    const plain = await stack.request(API_REFERENCE_BUNDLE_PATH);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const source = await plain.text();
    expect(source).toContain('@scalar/api-reference');
    expect(source).toContain('createApiReference');

    const gzipped = await stack.request(API_REFERENCE_BUNDLE_PATH, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gzipped.arrayBuffer())).toString()).toBe(source);

    const etag = plain.headers.get('etag');
    expect(etag).toBeTruthy();
    const revalidated = await stack.request(API_REFERENCE_BUNDLE_PATH, { headers: { 'if-none-match': etag ?? '' } });
    expect(revalidated.status).toBe(304);
  });
});
