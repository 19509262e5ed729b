import { describe, expect, it } from 'vitest';
import { newId } from '../../core/ids.ts';
import { bounceAddress, readBounceAddress } from '../../lib/bounce-address.ts';

const secret = 'k'.repeat(40);
const domain = 'bounces.mandate.example';

describe('bounce addresses (VERP)', () => {
  it('names the delegation and the send, and reads back, whatever the case a server gives it', () => {
    const id = newId('delegation');
    const address = bounceAddress(secret, domain, id, 3);
    expect(address).toMatch(new RegExp(`^${id}\\.3-[0-9a-f]{20}@${domain.replaceAll('.', '\\.')}$`));
    expect(readBounceAddress(secret, domain, address)).toEqual({ ok: true, delegationId: id, attempt: 3 });
    expect(readBounceAddress(secret, domain, address.toUpperCase())).toEqual({
      ok: true,
      delegationId: id,
      attempt: 3,
    });
  });

  it('gives each send its own address: the tag of one attempt does not pass for another', () => {
    const id = newId('delegation');
    const first = bounceAddress(secret, domain, id, 1);
    expect(bounceAddress(secret, domain, id, 2)).not.toBe(first);
    const tag = first.split('@')[0]?.split('-')[1];
    for (const forged of [`${id}.2-${tag}@${domain}`, `${id}.01-${tag}@${domain}`, `${id}-${tag}@${domain}`]) {
      expect(readBounceAddress(secret, domain, forged)).toEqual({ ok: false, reason: 'forged' });
    }
  });

  it('recognises an address it did not make: another tag, another key, another id, another shape', () => {
    const id = newId('delegation');
    const address = bounceAddress(secret, domain, id, 1);
    const [local] = address.split('@') as [string];
    const otherId = newId('delegation');
    const flipped = `${local.slice(0, -1)}${local.endsWith('0') ? '1' : '0'}@${domain}`;
    for (const forged of [
      flipped,
      bounceAddress('z'.repeat(40), domain, id, 1),
      `${otherId}.1-${local.split('-')[1]}@${domain}`,
      `postmaster@${domain}`,
      `${id}@${domain}`,
    ]) {
      expect(readBounceAddress(secret, domain, forged)).toEqual({ ok: false, reason: 'forged' });
    }
  });

  it('leaves other domains alone', () => {
    const address = bounceAddress(secret, 'elsewhere.example', newId('delegation'), 1);
    expect(readBounceAddress(secret, domain, address)).toEqual({ ok: false, reason: 'foreign' });
    expect(readBounceAddress(secret, domain, 'no-at-sign')).toEqual({ ok: false, reason: 'foreign' });
  });
});
