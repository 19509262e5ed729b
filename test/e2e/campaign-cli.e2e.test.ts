import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { createTestOffer, createTestPartner } from '../helpers/factories.ts';
import { freePort, runTsx } from '../helpers/processes.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * `npm run mandate -- campaign …` as a child process against a real API, real workers and
 * an SMTP server that refuses one address: the file checked first, the campaign sent and
 * watched to the end, the failure exported, and a repeat that sends nothing new.
 */
const refused = 'refused@client.example';
const regular = Array.from({ length: 47 }, (_, i) => `client${i}@client.example`);

let stack: TestStack;
let sink: SmtpSink;
let server: RunningServer;
let dir: string;
let csvPath: string;
let offerId: string;
let env: Record<string, string>;
let campaignId: string;

const cli = (args: string[], extraEnv: Record<string, string> = {}) =>
  runTsx('cli/mandate.ts', ['campaign', ...args], { ...env, ...extraEnv });

const countCampaigns = async () => {
  const [row] = await stack.deps.sql`select count(*)::int as n from campaigns`;
  return row?.n as number;
};

beforeAll(async () => {
  sink = await startSmtpSink({
    rule: (address) => (address === refused ? { code: 550, message: '5.1.1 No such user here' } : undefined),
  });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  stack = await createTestStack({
    env: { SMTP_URL: sink.url, PORT: String(port), PUBLIC_URL: base, HOST: '127.0.0.1' },
    workers: true,
  });
  server = await startServer(stack.app, stack.config);
  const partner = await createTestPartner(stack);
  offerId = (await createTestOffer(stack, partner.token)).id;
  env = { MANDATE_URL: base, MANDATE_TOKEN: partner.token };

  // 50 data rows: 47 good ones, one the mail server refuses, an invalid address (line 12)
  // and a repeat of the first address (line 32, after a blank line).
  const rows = [...regular.map((email, i) => `${email},Admin ${i},Client ${i}`), `${refused},Refused,Nobody`];
  rows.splice(10, 0, 'not-an-address,Bad,Row');
  rows.splice(29, 0, '', 'CLIENT0@Client.example,Again,Client 0');
  dir = await mkdtemp(join(tmpdir(), 'mandate-cli-'));
  csvPath = join(dir, 'clients.csv');
  await writeFile(csvPath, `email,name,company\n${rows.join('\n')}\n`);
});

afterAll(async () => {
  await server?.close();
  await stack?.close();
  await sink?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('mandate campaign', () => {
  it('send: lists the rejected rows, shows progress, waits for the end, and exits 1 for the failure', async () => {
    const run = await cli(['send', '--offer', offerId, '--csv', csvPath, '--name', 'CLI campaign']);
    expect(run.code, run.stderr).toBe(1);

    expect(run.stderr).toContain('2 of 50 rows rejected, not sent:');
    expect(run.stderr).toContain('row 11 (line 12): not-an-address — email is not a valid address');
    expect(run.stderr).toContain(
      'row 30 (line 32): CLIENT0@Client.example — duplicate of an earlier recipient in this campaign',
    );
    expect(run.stderr).toContain('48 recipients to send.');
    // Progress as plain lines (stderr is not a TTY here), the last one complete.
    expect(run.stderr).toMatch(/^\[#{24}\] 100% · 47 sent · 1 failed · 0 remaining · .* msg\/s · done$/m);
    expect(run.stderr).toContain(`${refused}: 550 5.1.1 No such user here`);

    const id = /Campaign (cmp_[0-9a-f]{32}) "CLI campaign"/.exec(run.stdout)?.[1];
    expect(id, run.stdout).toBeDefined();
    campaignId = id as string;
    expect(run.stdout).toContain('48 recipients: 47 sent (47 offered), 1 failed, 0 waiting');
    expect(run.stdout).toContain('2 rows of the file rejected');

    const [campaign] = await stack.deps.sql`select total, rejected_count from campaigns where id = ${campaignId}`;
    expect(campaign).toEqual({ total: 48, rejected_count: 2 });
    const states = await stack.deps.sql`
      select state, count(*)::int as n from delegations where campaign_id = ${campaignId} group by state order by state`;
    expect(states).toEqual([
      { state: 'failed', n: 1 },
      { state: 'offered', n: 47 },
    ]);
    expect(new Set(sink.messages.flatMap((m) => m.to))).toEqual(new Set(regular));
  });

  it('failed: writes the refused recipient with the mail server reply, and exits 1', async () => {
    const out = join(dir, 'failed.csv');
    const run = await cli(['failed', campaignId, '--csv', out]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain(`1 failed recipient of ${campaignId} written to ${out}`);
    const rows = parse(await readFile(out, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ email: refused, name: 'Refused', company: 'Nobody', state: 'failed' });
    expect(rows[0]?.smtp_reply).toMatch(/^550 5\.1\.1 No such user here/);
  });

  it('status --json: one line of JSON with the counts', async () => {
    const run = await cli(['status', campaignId, '--json']);
    expect(run.code, run.stderr).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      id: campaignId,
      name: 'CLI campaign',
      offerId,
      done: true,
      total: 48,
      sent: 47,
      failed: 1,
      remaining: 0,
      rejected: 2,
    });
  });

  it('send again with the same file and offer: follows the first campaign, creates nothing', async () => {
    const before = sink.messages.length;
    const run = await cli(['send', '--offer', offerId, '--csv', csvPath, '--name', 'CLI campaign', '--json']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`already sent to this offer as campaign ${campaignId}`);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: campaignId, sent: 47, failed: 1 });
    expect(await countCampaigns()).toBe(1);
    expect(sink.messages.length).toBe(before);
  });

  it('a bad token: exit 2 with the server code, nothing created', async () => {
    const run = await cli(['send', '--offer', offerId, '--csv', csvPath], { MANDATE_TOKEN: 'mdt_not-a-real-token' });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('UNAUTHENTICATED (HTTP 401): A valid partner API token is required');
    expect(run.stdout).toBe('');
    expect(await countCampaigns()).toBe(1);
  });

  it('a missing file, no server, no token: exit 2 with a clear message', async () => {
    const missing = await cli(['send', '--offer', offerId, '--csv', join(dir, 'nope.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`No such file: ${join(dir, 'nope.csv')}`);

    const nobody = await cli(['status', campaignId], { MANDATE_URL: `http://127.0.0.1:${await freePort()}` });
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toMatch(/Could not reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);

    const noToken = await cli(['status', campaignId], { MANDATE_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('set MANDATE_TOKEN');
    expect(await countCampaigns()).toBe(1);
  });

  it('send: 1,000 rows with 10 bad ones — the 10 listed, 990 sent, exit 0', async () => {
    const good = Array.from({ length: 990 }, (_, i) => `admin${i}@big${i}.example`);
    const bad = Array.from({ length: 10 }, (_, i) => `broken-${i}-at-nowhere`);
    const rows = ['email,name,company', ...good.map((e, i) => `${e},Admin,Big ${i}`)];
    for (const [i, address] of bad.entries()) rows.splice(1 + i * 97, 0, `${address},Bad,Row`);
    const bigPath = join(dir, 'big.csv');
    await writeFile(bigPath, `${rows.join('\n')}\n`);
    const before = await countCampaigns();

    const run = await cli(['send', '--offer', offerId, '--csv', bigPath, '--name', 'Big', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('10 of 1,000 rows rejected, not sent:');
    for (const address of bad) expect(run.stderr).toContain(address);
    expect(JSON.parse(run.stdout)).toMatchObject({ sent: 990, failed: 0, rejected: 10 });
    expect(await countCampaigns()).toBe(before + 1);
    const delivered = new Set(sink.messages.flatMap((m) => m.to));
    for (const email of good) expect(delivered.has(email), email).toBe(true);
  }, 120_000);
});
