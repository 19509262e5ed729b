import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInClient } from '../../helpers/dashboard.ts';
import { createTestPartner } from '../../helpers/factories.ts';
import { SoftAuthenticator } from '../../helpers/passkey-authenticator.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';
import { enrolTotp, totpCode } from '../../helpers/two-factor.ts';

/**
 * A change of someone's second factor is told to them by email, whoever made it: if it
 * was not them, the session that did it is someone else's. Counted from what the SMTP
 * server received.
 */
let stack: TestStack;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url }, workers: true });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

const changeMails = (to: string) =>
  sink.messages.filter(
    (m) => m.to.includes(to.toLowerCase()) && /^(Two-factor sign-in|A passkey) was/.test(m.subject ?? ''),
  );

async function mailsSettled(to: string, expected: number) {
  const deadline = Date.now() + 20_000;
  while (changeMails(to).length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  return changeMails(to);
}

describe('second-factor changes are emailed to the account', () => {
  it('one email when it is turned on, one when it is turned off', async () => {
    const owner = await createTestPartner(stack);
    const browser = await signedInClient(stack, owner.userId);
    const { secret, step } = await enrolTotp(browser);
    const on = await mailsSettled(owner.email, 1);
    expect(on.map((m) => m.subject)).toEqual([`Two-factor sign-in was turned on for ${owner.email}`]);
    expect(on[0]?.text).toContain('If this was not you');

    const off = await browser.post('/account/two-factor/disable', { code: totpCode(secret, step + 1) });
    expect(off.status).toBe(200);
    const both = await mailsSettled(owner.email, 2);
    expect(both.map((m) => m.subject)).toEqual([
      `Two-factor sign-in was turned on for ${owner.email}`,
      `Two-factor sign-in was turned off for ${owner.email}`,
    ]);
  });

  it('one email when a passkey is added, one when it is removed, naming it', async () => {
    const owner = await createTestPartner(stack);
    const browser = await signedInClient(stack, owner.userId);
    const authenticator = new SoftAuthenticator(new URL(stack.config.publicUrl).origin);
    const options = JSON.parse((await browser.post('/account/passkeys/options')).html) as {
      options: { challenge: string };
    };
    const added = await browser.post('/account/passkeys', {
      name: 'Desk key',
      answer: authenticator.register(options.options),
    });
    expect(added.status).toBe(200); // the first second factor: its recovery codes, once
    const [row] = await stack.deps.sql`select id from passkeys where user_id = ${owner.userId}`;
    expect((await browser.post(`/account/passkeys/${row?.id}/remove`)).location).toBe('/account/passkeys?done=removed');
    const mails = await mailsSettled(owner.email, 2);
    expect(mails.map((m) => m.subject)).toEqual([
      `A passkey was added to ${owner.email}`,
      `A passkey was removed from ${owner.email}`,
    ]);
    expect(mails[0]?.text).toContain('“Desk key”');
  });
});
