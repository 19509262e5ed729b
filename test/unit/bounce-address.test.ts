import { describe, expect, it } from 'vitest';
import { newId } from '../../core/ids.ts';
import { bounceAddress, readBounceAddress } from '../../lib/bounce-address.ts';

const secret = 'k'.repeat(40);
const domain = 'bounces.mandate.example';

describe('bounce addresses (VERP)', () => {
  it('names the delegation and reads back, whatever the case a server gives it', () => {
    const id = newId('delegation');
    const address = bounceAddress(secret, domain, id);
    expect(address).toMatch(new RegExp(`^${id}-[0-9a-f]{20}@${domain.replaceAll('.', '\\.')}$`));
    expect(readBounceAddress(secret, domain, address)).toEqual({ ok: true, delegationId: id });
    expect(readBounceAddress(secret, domain, address.toUpperCase())).toEqual({ ok: true, delegationId: id });
  });

  it('recognises an address it did not make: another tag, another key, another id, another shape', () => {
    const id = newId('delegation');
    const address = bounceAddress(secret, domain, id);
    const [local] = address.split('@') as [string];
    const otherId = newId('delegation');
    const flipped = `${local.slice(0, -1)}${local.endsWith('0') ? '1' : '0'}@${domain}`;
    for (const forged of [
      flipped,
      bounceAddress('z'.repeat(40), domain, id),
      `${otherId}-${local.split('-')[1]}@${domain}`,
      `postmaster@${domain}`,
      `${id}@${domain}`,
    ]) {
      expect(readBounceAddress(secret, domain, forged)).toEqual({ ok: false, reason: 'forged' });
    }
  });

  it('leaves other domains alone', () => {
    const address = bounceAddress(secret, 'elsewhere.example', newId('delegation'));
    expect(readBounceAddress(secret, domain, address)).toEqual({ ok: false, reason: 'foreign' });
    expect(readBounceAddress(secret, domain, 'no-at-sign')).toEqual({ ok: false, reason: 'foreign' });
  });
});
