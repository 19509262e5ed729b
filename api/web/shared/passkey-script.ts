import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The two scripts of the passkey forms, served from this site (never a CDN): the prebuilt
 * browser bundle of @simplewebauthn/browser (it defines `SimpleWebAuthnBrowser`), and ours,
 * which drives every `<form data-passkey>`:
 *
 * - `data-passkey="register"` or `"authenticate"`: which WebAuthn ceremony;
 * - `data-options="/path"`: where to POST (as a form, with the form's `csrf` field) for the
 *   options, answered as JSON `{ options }` or `{ error }`;
 * - a hidden `answer` field: filled with the authenticator's answer (JSON), then the form
 *   is submitted as an ordinary form to its `action` — the server's answer is a page;
 * - an element with `data-passkey-status` (role="status"): where progress and problems show.
 *
 * Without scripts the form still posts; its empty answer is refused with a message saying
 * passkeys need JavaScript. Each path carries a hash of its content, so browsers may keep
 * a copy for a year.
 */
const passkeyScript = `(() => {
  'use strict';
  const lib = window.SimpleWebAuthnBrowser;
  const messages = {
    NotAllowedError: 'The passkey prompt was closed or timed out. Try again.',
    InvalidStateError: 'This passkey is already registered here.',
  };
  for (const form of document.querySelectorAll('form[data-passkey]')) {
    const status = form.querySelector('[data-passkey-status]');
    const say = (text) => { if (status) status.textContent = text; };
    if (!lib || !lib.browserSupportsWebAuthn()) {
      say('This browser cannot use passkeys.');
      continue;
    }
    form.addEventListener('submit', async (event) => {
      if (form.dataset.passkeyAnswered === 'yes') return;
      event.preventDefault();
      const button = form.querySelector('button[type=submit]');
      if (button) button.disabled = true;
      say('Waiting for your passkey…');
      try {
        const response = await fetch(form.dataset.options, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { accept: 'application/json' },
          body: new URLSearchParams({
            csrf: form.elements.csrf.value,
            ...(form.elements.current ? { current: form.elements.current.value } : {}),
          }),
        });
        const body = await response.json().catch(() => null);
        if (!response.ok || !body || !body.options) {
          throw new Error((body && body.error) || 'Passkeys could not start. Reload the page and try again.');
        }
        const answer = form.dataset.passkey === 'register'
          ? await lib.startRegistration({ optionsJSON: body.options })
          : await lib.startAuthentication({ optionsJSON: body.options });
        form.elements.answer.value = JSON.stringify(answer);
        form.dataset.passkeyAnswered = 'yes';
        say('Checking…');
        form.submit();
      } catch (error) {
        say(messages[error && error.name] || (error && error.message) || String(error));
        if (button) button.disabled = false;
      }
    });
  }
})();
`;

const bundleFile = join(
  dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')),
  '..',
  'dist',
  'bundle',
  'index.umd.min.js',
);

const fingerprint = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** A script served under a path that changes with its content. */
export interface VersionedScript {
  path: string;
  body: string;
}

function versioned(name: string, body: string): VersionedScript {
  return { path: `/assets/${name}-${fingerprint(body)}.js`, body };
}

/** The scripts a page with passkey forms loads, in order (the library first). */
export const passkeyScripts: readonly VersionedScript[] = [
  versioned('simplewebauthn-browser', readFileSync(bundleFile, 'utf8')),
  versioned('passkeys', passkeyScript),
];

/** Their paths, for `<script src>`. */
export const passkeyScriptPaths = passkeyScripts.map((s) => s.path);
