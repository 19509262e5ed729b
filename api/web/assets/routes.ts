import { Hono } from 'hono';
import type { AppEnv, WebApp } from '../../env.ts';
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
  return assets;
}
