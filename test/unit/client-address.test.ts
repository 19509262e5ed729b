import { describe, expect, it } from 'vitest';
import { isLoopbackAddress, rateLimitAddress } from '../../core/client-address.ts';

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

describe('a loopback address', () => {
  it('is 127.0.0.0/8 (also IPv4-mapped) or ::1, in any spelling', () => {
    for (const address of [
      '127.0.0.1',
      '127.255.0.9',
      '::1',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      '::FFFF:127.1.2.3',
    ]) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
  });

  it('is nothing else: not the unspecified address, a LAN address, a name or garbage', () => {
    for (const address of [
      '0.0.0.0',
      '::',
      '192.168.1.2',
      '10.0.0.1',
      '::ffff:10.0.0.1',
      '::2',
      '1::1',
      'fe80::1%lo',
    ]) {
      expect(isLoopbackAddress(address), address).toBe(false);
    }
    for (const address of [undefined, '', 'localhost', '127.0.0.1.example', '127.0.0.256', '::1:']) {
      expect(isLoopbackAddress(address), String(address)).toBe(false);
    }
  });
});
