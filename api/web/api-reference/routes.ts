import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Scalar } from '@scalar/hono-api-reference';
import { type Context, Hono } from 'hono';
import { NONCE, secureHeaders } from 'hono/secure-headers';
import type { AppEnv, WebApp } from '../../env.ts';

/** Where Scalar's browser bundle is served: from here, never from a CDN (there may be no internet). */
export const API_REFERENCE_BUNDLE_PATH = '/docs/assets/scalar.js';

interface Bundle {
  raw: Uint8Array<ArrayBuffer>;
  gzipped: Uint8Array<ArrayBuffer>;
  etag: string;
}

let bundle: Promise<Bundle> | undefined;

/** The standalone bundle of @scalar/api-reference (3.5 MB, ~1 MB gzipped), read and compressed once per process. */
function loadBundle(): Promise<Bundle> {
  bundle ??= (async () => {
    const file = createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js');
    const raw = await readFile(file);
    const gzipped = await promisify(gzip)(raw);
    const etag = `"${createHash('sha256').update(raw).digest('base64url').slice(0, 27)}"`;
    return { raw: new Uint8Array(raw), gzipped: new Uint8Array(gzipped), etag };
  })();
  bundle.catch(() => {
    bundle = undefined;
  });
  return bundle;
}

/**
 * Exactly what the reference page needs: the bundle from here and Scalar's inline start-up
 * script (by nonce); styles it injects at run time (so `'unsafe-inline'` for styles, which
 * a nonce there would switch off); its inline SVG images; the document and "try it"
 * requests to this server. Fonts: none — `withDefaultFonts: false` keeps it off Scalar's
 * font CDN, and it uses the system's.
 */
const referenceHeaders = secureHeaders({
  xFrameOptions: 'DENY',
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'", NONCE],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    // The document's server (PUBLIC_URL) too, should the page be reached under another name.
    connectSrc: ["'self'", (c: Context<AppEnv>) => new URL(c.var.deps.config.publicUrl).origin],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
});

const scalarPage = Scalar<AppEnv>({
  url: '/openapi.json',
  cdn: API_REFERENCE_BUNDLE_PATH,
  pageTitle: 'Mandate partner API',
  withDefaultFonts: false,
  // Both talk to scalar.com (the toolbar uploads the document to its registry; "Ask AI"
  // sends it to its agent): not from here, and offline they could not work anyway.
  showDeveloperTools: 'never',
  agent: { disabled: true },
});

/**
 * The interactive API reference at /docs: Scalar rendering /openapi.json. Public, like the
 * document (it holds no secrets): no viewer, no sign-in. Works offline: nothing is loaded
 * from another site.
 */
export function createApiReference(): WebApp {
  const pages = new Hono<AppEnv>();
  pages.get('/docs', referenceHeaders, async (c, next) => {
    const rendered = await scalarPage(c, next);
    if (!rendered) throw new Error('Scalar rendered no page');
    // Scalar writes its <script> tags without a nonce; the page's CSP admits them by one.
    const nonce = c.get('secureHeadersNonce') ?? '';
    const html = (await rendered.text()).replace(/<script(?=[\s>])/g, `<script nonce="${nonce}"`);
    c.header('Cache-Control', 'no-store');
    return c.html(html);
  });

  pages.get(API_REFERENCE_BUNDLE_PATH, async (c) => {
    const { raw, gzipped, etag } = await loadBundle();
    // Not fingerprinted (the page names it by a fixed path), so revalidate after an hour.
    c.header('Cache-Control', 'public, max-age=3600');
    c.header('ETag', etag);
    c.header('Vary', 'Accept-Encoding');
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('X-Content-Type-Options', 'nosniff');
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      c.header('Content-Encoding', 'gzip');
      return c.body(gzipped);
    }
    return c.body(raw);
  });
  return pages;
}
