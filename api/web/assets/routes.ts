import { Hono } from 'hono';
import type { AppEnv, WebApp } from '../../env.ts';
import { FAVICON_PATH, faviconSvg } from '../shared/favicon.ts';
import { passkeyScripts } from '../shared/passkey-script.ts';

/**
 * Static scripts of the pages, under /assets/: each path names its content's hash
 * (api/web/shared/passkey-script.ts), so a year's caching never serves a stale copy.
 */
export function createAssets(): WebApp {
  const assets = new Hono<AppEnv>();
  for (const script of passkeyScripts) {
    assets.get(script.path, (c) => {
      c.header('Cache-Control', 'public, max-age=31536000, immutable');
      c.header('X-Content-Type-Options', 'nosniff');
      return c.body(script.body, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
    });
  }
  // The pages' icon (api/web/shared/layout.tsx links it); /favicon.ico for browsers that ask anyway.
  assets.get(FAVICON_PATH, (c) => {
    c.header('Cache-Control', 'public, max-age=86400');
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(faviconSvg, 200, { 'Content-Type': 'image/svg+xml' });
  });
  assets.get('/favicon.ico', (c) => c.redirect(FAVICON_PATH, 301));
  return assets;
}
