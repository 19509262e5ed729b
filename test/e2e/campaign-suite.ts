import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../lib/secrets.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort, runTsx, type Service, startTsx, waitForHttp } from '../helpers/processes.ts';
import { testServices } from '../helpers/services.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { deleteQueueKeys } from '../helpers/stack.ts';

/**
 * The whole path through real processes and sockets: the CLI creates a partner, the
 * `npm start` entry serves the API and runs the workers, and a real SMTP server
 * receives the mail (and refuses some of it). Run once per queue backend.
 */
export function describeCampaignEndToEnd(backend: 'redis' | 'postgres'): void {
  const rejected = new Set(Array.from({ length: 5 }, (_, i) => `bounce${i}@client.example`));
  const throttledOnce = new Set(Array.from({ length: 5 }, (_, i) => `throttled${i}@client.example`));

  let database: TestDatabase;
  let sink: SmtpSink;
  let app: Service;
  let baseUrl: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    sink = await startSmtpSink({
      rule: (address, attempt) => {
        if (rejected.has(address)) return { code: 550, message: '5.1.1 No such user here' };
        if (throttledOnce.has(address) && attempt === 1)
          return { code: 421, message: '4.7.0 Too many messages, slow down' };
        return undefined;
      },
    });
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = {
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      REDIS_URL: testServices.redisUrl,
      QUEUE_PREFIX: `e2e_${randomBytes(4).toString('hex')}`,
      SMTP_URL: sink.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: baseUrl,
      LINK_SECRET: randomBytes(32).toString('hex'),
      MAIL_BACKOFF_MS: '200',
      SEND_RATE_PER_SECOND: '0',
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      QUEUE_BACKEND: backend,
    };
    app = startTsx('start.ts', env);
    await waitForHttp(`${baseUrl}/readyz`, 60_000, app);
  });

  afterAll(async () => {
    await app?.stop();
    await sink?.close();
    if (env) await deleteQueueKeys(env.QUEUE_PREFIX as string);
    await database?.drop();
  });

  describe(`a 300-recipient campaign, end to end, queues on ${backend}`, () => {
    it('delivers 295 offers exactly once with working links, and fails the 5 the server refuses', async () => {
      const cli = await runTsx(
        'cli/mandate.ts',
        [
          'partner',
          'create',
          '--name',
          'Northwind Services',
          '--owner-email',
          'owner@northwind.example',
          '--json',
          '--without-two-factor-policy',
        ],
        env,
      );
      expect(cli.code, cli.stderr).toBe(0);
      const lines = cli.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const partner = JSON.parse(lines[0] as string) as Record<string, string>;
      expect(Object.keys(partner).sort()).toEqual([
        'email',
        'partnerId',
        'password',
        'requireTwoFactor',
        'token',
        'userId',
      ]);
      const auth = { authorization: `Bearer ${partner.token}`, 'content-type': 'application/json' };

      const offerResponse = await fetch(`${baseUrl}/v1/offers`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ name: 'Northwind managed IT', access: 'limited', durationDays: 365, autoExtend: true }),
      });
      expect(offerResponse.status).toBe(201);
      const offer = (await offerResponse.json()) as { id: string };

      const regular = Array.from({ length: 290 }, (_, i) => `client${i}@client.example`);
      const recipients = [...regular, ...rejected, ...throttledOnce].map((email, i) => ({
        email,
        company: `Client ${i}`,
      }));
      const campaignResponse = await fetch(`${baseUrl}/v1/campaigns`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ offerId: offer.id, name: 'E2E', recipients }),
      });
      expect(campaignResponse.status).toBe(202);
      const campaign = (await campaignResponse.json()) as { id: string; total: number; rejected: unknown[] };
      expect(campaign.total).toBe(300);
      expect(campaign.rejected).toEqual([]);

      let progress: { done: boolean; counts: Record<string, number> } | undefined;
      const deadline = Date.now() + 90_000;
      do {
        await new Promise((r) => setTimeout(r, 250));
        progress = (await (
          await fetch(`${baseUrl}/v1/campaigns/${campaign.id}`, { headers: auth })
        ).json()) as typeof progress;
      } while (!progress?.done && Date.now() < deadline);
      expect(progress?.done).toBe(true);
      expect(progress?.counts).toMatchObject({ invited: 0, offered: 295, failed: 5 });

      // Every accepted address got exactly one email; the refused ones none.
      const received = new Map<string, number>();
      for (const mail of sink.messages) for (const to of mail.to) received.set(to, (received.get(to) ?? 0) + 1);
      const delivered = [...regular, ...throttledOnce];
      expect(received.size).toBe(295);
      for (const email of delivered) expect(received.get(email), email).toBe(1);
      for (const email of rejected) expect(received.has(email)).toBe(false);
      // The throttled ones really were refused once with 421 before getting through.
      for (const email of throttledOnce) expect(sink.attempts.get(email), email).toBeGreaterThanOrEqual(2);

      // Each link is distinct and resolves to the delegation of its own recipient.
      const sql = postgres(database.url, { max: 1 });
      try {
        const rows =
          await sql`select id, recipient_email, token_hash, message_id from delegations where campaign_id = ${campaign.id}`;
        const byHash = new Map(rows.map((r) => [r.token_hash as string, r]));
        const links = new Set<string>();
        for (const mail of sink.messages) {
          const match = new RegExp(`${baseUrl}/offers/([A-Za-z0-9_-]{43})`).exec(mail.text);
          expect(match, mail.text).not.toBeNull();
          const token = match?.[1] as string;
          links.add(token);
          expect(mail.html).toContain(`/offers/${token}`);
          const row = byHash.get(sha256Hex(token));
          expect(row?.recipient_email).toBe(mail.to[0]);
          expect(mail.messageId).toBe(row?.message_id);
        }
        expect(links.size).toBe(295);

        const failed =
          await sql`select recipient_email, smtp_reply from delegations where campaign_id = ${campaign.id} and state = 'failed'`;
        expect(new Set(failed.map((r) => r.recipient_email))).toEqual(rejected);
        for (const row of failed) expect(row.smtp_reply).toMatch(/^550/);
      } finally {
        await sql.end();
      }

      const failedPage = (await (
        await fetch(`${baseUrl}/v1/campaigns/${campaign.id}/recipients?state=failed`, { headers: auth })
      ).json()) as { items: { email: string; smtpReply: string }[] };
      expect(failedPage.items).toHaveLength(5);
      expect(failedPage.items.every((r) => r.smtpReply.startsWith('550'))).toBe(true);
    });

    it('the CLI refuses bad arguments and a taken email without writing anything', async () => {
      const missing = await runTsx('cli/mandate.ts', ['partner', 'create', '--name', 'X', '--json'], env);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('--owner-email');
      expect(missing.stdout).toBe('');
      const taken = await runTsx(
        'cli/mandate.ts',
        ['partner', 'create', '--name', 'Again', '--owner-email', 'OWNER@northwind.example', '--json'],
        env,
      );
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain('already exists');
      expect(taken.stdout).toBe('');
    });

    it('stops cleanly on SIGTERM', async () => {
      expect(await app.stop('SIGTERM')).toBe(0);
    });
  });
}
