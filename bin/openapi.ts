/**
 * `npm run check:openapi` (`check`): lints the document /openapi.json serves with Redocly's
 * recommended rules (redocly.yaml) and fails while cli/api-types.ts is not what the routes
 * generate. `npm run openapi:types` (`types`): writes cli/api-types.ts again.
 * Neither needs a database or a running server: the document is built from the routes.
 */

import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_TYPES_PATH, contractDocument, generateApiTypes } from './openapi-contract.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs `redocly lint` on the document; returns its exit code (0: no errors). Warnings are
 * counted by rule (redocly.yaml says why those that remain do); on errors it runs again
 * to show each problem where it is in the document.
 */
async function lintDocument(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'mandate-openapi-'));
  try {
    const file = join(dir, 'openapi.json');
    // Indented, so the excerpts Redocly prints around each problem are readable.
    await writeFile(file, `${JSON.stringify(contractDocument(), null, 2)}\n`);
    const summary = redoclyLint(file, 'summary');
    return summary === 0 ? 0 : redoclyLint(file, 'codeframe') || summary;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function redoclyLint(file: string, format: 'summary' | 'codeframe'): number {
  const cliPackage = createRequire(import.meta.url).resolve('@redocly/cli/package.json');
  const lint = spawnSync(
    process.execPath,
    [join(dirname(cliPackage), 'bin/cli.js'), 'lint', file, '--config', join(root, 'redocly.yaml'), '--format', format],
    {
      stdio: 'inherit',
      // No usage report and no look-up of newer versions: a check talks to no one.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' },
    },
  );
  if (lint.error) throw lint.error;
  return lint.status ?? 1;
}

/** 0 when the committed types are what the routes generate; else says how to fix it. */
async function checkTypes(): Promise<number> {
  const committed = await readFile(API_TYPES_PATH, 'utf8').catch(() => undefined);
  if (committed === (await generateApiTypes())) return 0;
  process.stderr.write(
    `${relative(root, API_TYPES_PATH)} is not what the routes generate: run \`npm run openapi:types\` and commit it.\n`,
  );
  return 1;
}

async function main(command: string | undefined): Promise<number> {
  if (command === 'types') {
    await writeFile(API_TYPES_PATH, await generateApiTypes());
    process.stdout.write(`wrote ${relative(root, API_TYPES_PATH)}\n`);
    return 0;
  }
  if (command === 'check') {
    const linted = await lintDocument();
    const typed = await checkTypes();
    return linted === 0 && typed === 0 ? 0 : 1;
  }
  process.stderr.write('Usage: tsx bin/openapi.ts check|types\n');
  return 2;
}

process.exitCode = await main(process.argv[2]);
