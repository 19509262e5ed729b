import { Secret, TOTP } from 'otpauth';
import type { PageClient } from './browser-client.ts';

/**
 * TOTP codes as a phone's authenticator app computes them (the same library and
 * parameters), by time step: tests pick steps relative to the one a code was last
 * accepted at, so nothing depends on where in its 30 seconds the clock happens to be.
 */
export function totpCode(secret: string, step: number): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret.replace(/\s/g, '')), timestamp: step * 30_000 });
}

export const currentStep = () => Math.floor(Date.now() / 30_000);

/** A 6-digit code that is not the code of any step within ±15 of `step`. */
export function wrongCode(secret: string, step = currentStep()): string {
  const near = new Set(Array.from({ length: 31 }, (_, i) => totpCode(secret, step - 15 + i)));
  for (;;) {
    const code = String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

/** The key shown as text beside the QR code, without its spaces. */
export function secretFromPage(html: string): string {
  const shown = /data-testid="totp-secret"[^>]*>([^<]+)</.exec(html)?.[1];
  if (!shown) throw new Error(`no key on the page: ${html.slice(0, 400)}`);
  return shown.replace(/\s/g, '');
}

/** The recovery codes listed on the page shown after enrolment. */
export function recoveryCodesFromPage(html: string): string[] {
  const list = /data-testid="recovery-codes"[^>]*>(.*?)<\/ul>/s.exec(html)?.[1] ?? '';
  return [...list.matchAll(/<li>([a-z2-9-]+)<\/li>/g)].map((m) => m[1] as string);
}

/**
 * Turns on two-factor sign-in for the user `browser` is signed in as, through the pages:
 * start, read the key, confirm with the code of the current step. Returns the key, the
 * step its first code used, and the recovery codes.
 */
export async function enrolTotp(
  browser: PageClient,
): Promise<{ secret: string; step: number; recoveryCodes: string[] }> {
  await browser.get('/account/two-factor');
  const started = await browser.post('/account/two-factor/start');
  if (started.status !== 303) throw new Error(`start answered ${started.status}: ${started.html.slice(0, 300)}`);
  const secret = secretFromPage((await browser.get('/account/two-factor')).html);
  const step = currentStep();
  const confirmed = await browser.post('/account/two-factor/confirm', { code: totpCode(secret, step) });
  if (confirmed.status !== 200)
    throw new Error(`confirm answered ${confirmed.status}: ${confirmed.html.slice(0, 300)}`);
  return { secret, step, recoveryCodes: recoveryCodesFromPage(confirmed.html) };
}
