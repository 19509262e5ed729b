import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.ts';
import type { Deps } from '../../lib/deps.ts';
import { delegationLinkToken, sha256Hex } from '../../lib/secrets.ts';

/** The link token's hash of a campaign delegation, written with its row. */
export function linkTokenHash(linkSecret: string, delegationId: string): string {
  return sha256Hex(delegationLinkToken(linkSecret, delegationId));
}

/**
 * Records chunks `first`… of `recipients` rows of a campaign (the rows already carry their
 * chunk numbers) and gives the partner its place in the senders' turns: a partner starting
 * to send joins at the virtual time (the turn of the partner whose chunk was taken last) —
 * not behind what it sent last week, nor ahead by what it did not send meanwhile; one
 * already sending keeps its turn, or the virtual time if that is later (docs/adr/0027).
 */
export async function recordChunks(
  tx: DbOrTx,
  chunk: { campaignId: string; partnerId: string; first: number; recipients: number; size: number },
): Promise<number[]> {
  if (chunk.recipients === 0) return [];
  const count = Math.ceil(chunk.recipients / chunk.size);
  await tx.execute(sql`
    insert into partner_send_turns as t (partner_id, turn)
    values (${chunk.partnerId}, (select turn from send_turn_clock where id = 1))
    on conflict (partner_id) do update
    set turn = case when exists (select 1 from send_chunks c where c.partner_id = t.partner_id and c.done_at is null)
                    then greatest(t.turn, excluded.turn) else excluded.turn end`);
  await tx.execute(sql`
    insert into send_chunks (campaign_id, chunk, partner_id, recipients)
    select ${chunk.campaignId}, ${chunk.first} + i, ${chunk.partnerId},
           least(${chunk.size}, ${chunk.recipients} - i * ${chunk.size})
    from generate_series(0, ${count - 1}) as i`);
  return Array.from({ length: count }, (_, i) => chunk.first + i);
}

/**
 * Puts the campaign's recipients that wait for their email without a chunk — rows of a
 * campaign created before chunks, recipients sent again after a failure — into new
 * chunks, writing their link token hashes on the way. Safe to run at any time and
 * concurrently: the rows are taken `for update skip locked`. Returns the new chunks.
 */
export async function chunkWaitingRecipients(
  tx: DbOrTx,
  config: { linkSecret: string; campaignChunkSize: number },
  campaignId: string,
): Promise<number[]> {
  const created: number[] = [];
  // The campaign's row first, as stopCampaign takes it (then its rows): the chunk numbers
  // are taken under it, and the two never wait for each other in opposite orders.
  await tx.execute(sql`select 1 from campaigns where id = ${campaignId} for update`);
  for (;;) {
    const rows = await tx.execute<{ id: string; partner_id: string }>(sql`
      select id, partner_id from delegations
      where campaign_id = ${campaignId} and state = 'invited' and send_chunk is null
      order by id limit ${config.campaignChunkSize} for update skip locked`);
    const first = rows[0];
    if (!first) return created;
    const [next] = await tx.execute<{ n: number }>(sql`
      select coalesce(max(chunk) + 1, 0)::int as n from send_chunks where campaign_id = ${campaignId}`);
    const chunk = next?.n ?? 0;
    const ids = rows.map((r) => r.id);
    await tx.execute(sql`
      update delegations d set send_chunk = ${chunk}, token_hash = coalesce(d.token_hash, r.hash)
      from unnest(${sql.param(ids)}::text[], ${sql.param(ids.map((id) => linkTokenHash(config.linkSecret, id)))}::text[])
           as r(id, hash)
      where d.id = r.id`);
    created.push(
      ...(await recordChunks(tx, {
        campaignId,
        partnerId: first.partner_id,
        first: chunk,
        recipients: rows.length,
        size: config.campaignChunkSize,
      })),
    );
  }
}

/** The chunks of a campaign still to send. */
export async function pendingChunks(db: DbOrTx, campaignId: string): Promise<number[]> {
  const rows = await db.execute<{ chunk: number }>(sql`
    select chunk from send_chunks where campaign_id = ${campaignId} and done_at is null order by chunk`);
  return rows.map((r) => r.chunk);
}

/**
 * Adds one `send-chunk` job per chunk, after the commit that recorded them: the tokens
 * the workers take chunks with. If the queue is unreachable the chunks are safe in
 * PostgreSQL and the reconciler adds their jobs.
 */
export async function enqueueChunks(
  deps: Pick<Deps, 'queues'>,
  campaignId: string,
  chunks: number[],
  options: { replaceFinished?: boolean } = {},
): Promise<boolean> {
  if (chunks.length === 0) return true;
  return deps.queues.enqueueAfterCommit(
    'send-chunk',
    chunks.map((chunk) => ({ campaignId, chunk })),
    { campaignId },
    options,
  );
}
