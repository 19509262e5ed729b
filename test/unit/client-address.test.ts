import { describe, expect, it } from 'vitest';
import { rateLimitAddress } from '../../core/client-address.ts';

describe('the address a client counts under', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    // Compressed forms of one /64 share its key (split(':') used to give 2001:db8::a here).
    ['2001:db8::a:b:c:d', '2001:db8:0:0::/64'],
    ['2001:db8:0:0:1::1', '2001:db8:0:0::/64'],
    ['2001:0DB8:0000:0000:ffff::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    ['not an address', 'unknown'],
    ['', 'unknown'],
    [undefined, 'unknown'],
  ])('%s → %s', (address, key) => {
    expect(rateLimitAddress(address)).toBe(key);
  });

  it('gives every host of one /64 the same key, however it is written', () => {
    const keys = new Set(
      ['2001:db8:0:0:1:2:3:4', '2001:db8::1:2:3:4', '2001:db8::ffff', '2001:db8:0::5'].map(rateLimitAddress),
    );
    expect(keys.size).toBe(1);
  });
});
