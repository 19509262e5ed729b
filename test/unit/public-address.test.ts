import { describe, expect, it } from 'vitest';
import { isPublicAddress, nonPublicHostReason } from '../../lib/public-address.ts';

describe('addresses an identity provider may be fetched at', () => {
  it('refuses this machine, private networks, link-local and reserved ranges, in both families', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      'not an address',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('refuses IPv6 forms that carry an IPv4 address or reach the local network: compatible, translated, local NAT64, Teredo, 6to4, site-local', () => {
    for (const address of [
      '::7f00:1',
      '::ffff:0:7f00:1',
      '64:ff9b:1::a00:1',
      '2001:0:4136:e378::1',
      '2002:7f00:1::1',
      'fec0::1',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('allows public addresses', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });

  it('says why a host may not be fetched, by what it resolves to', async () => {
    expect(await nonPublicHostReason('localhost')).toMatch(/not on the public internet/);
    expect(await nonPublicHostReason('127.0.0.1')).toMatch(/not on the public internet \(127\.0\.0\.1\)/);
    expect(await nonPublicHostReason('[::1]')).toMatch(/not on the public internet/);
    expect(await nonPublicHostReason('203.0.113.7')).toMatch(/not on the public internet/);
    expect(await nonPublicHostReason('8.8.8.8')).toBeNull();
  });
});
