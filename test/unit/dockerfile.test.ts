import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

/** The image's install must see everything `npm ci` reads, the dependency patches included. */
it('the image copies the dependency patches before it installs', () => {
  const lines = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8').split('\n');
  const install = lines.findIndex((l) => /^RUN npm ci\b/.test(l));
  const patches = lines.findIndex((l) => /^COPY patches\b/.test(l));
  expect(install).toBeGreaterThan(0);
  expect(patches).toBeGreaterThan(0);
  expect(patches).toBeLessThan(install);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  expect(pkg.scripts.postinstall).toBe('patch-package');
  // A runtime dependency: the image installs with --omit=dev.
  expect(pkg.dependencies['patch-package']).toBeDefined();
});
