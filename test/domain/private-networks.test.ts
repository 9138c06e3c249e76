import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { addressRefusal, checkWebhookDestination } from '../../src/domain/private-networks.js';

describe('addressRefusal', () => {
  it('refuses private, loopback, link-local, CGNAT, unspecified, multicast and reserved IPv4 addresses', () => {
    const cases: [string, string][] = [
      ['10.0.0.5', 'a private address'],
      ['10.255.255.255', 'a private address'],
      ['172.16.0.1', 'a private address'],
      ['172.31.255.254', 'a private address'],
      ['192.168.1.1', 'a private address'],
      ['127.0.0.1', 'a loopback address'],
      ['127.1.2.3', 'a loopback address'],
      ['169.254.169.254', 'a link-local address'],
      ['100.64.0.1', 'a shared (CGNAT) address'],
      ['100.127.255.254', 'a shared (CGNAT) address'],
      ['0.0.0.0', 'an unspecified address'],
      ['224.0.0.1', 'a multicast address'],
      ['239.255.255.250', 'a multicast address'],
      ['255.255.255.255', 'a reserved address'],
      ['240.0.0.1', 'a reserved address'],
      ['192.0.2.10', 'a reserved address'],
      ['198.18.0.1', 'a reserved address'],
    ];
    for (const [ip, why] of cases) expect([ip, addressRefusal(ip)]).toEqual([ip, why]);
  });

  it('refuses the IPv6 ranges, and IPv4-mapped, NAT64 and 6to4 forms of refused IPv4 addresses', () => {
    const cases: [string, string][] = [
      ['::1', 'a loopback address'],
      ['::', 'an unspecified address'],
      ['fc00::1', 'a private address'],
      ['fd12:3456:789a::1', 'a private address'],
      ['fe80::1', 'a link-local address'],
      ['fe80::1%eth0', 'a link-local address'],
      ['febf:ffff::1', 'a link-local address'],
      ['ff02::1', 'a multicast address'],
      ['2001:db8::1', 'a reserved address'],
      ['::ffff:10.0.0.1', 'a private address'],
      ['::ffff:a00:1', 'a private address'],
      ['::ffff:127.0.0.1', 'a loopback address'],
      ['::ffff:169.254.169.254', 'a link-local address'],
      ['64:ff9b::a9fe:a9fe', 'a link-local address (NAT64 of 169.254.169.254)'],
      ['64:ff9b::10.0.0.5', 'a private address (NAT64 of 10.0.0.5)'],
      ['2002:7f00:1::', 'a loopback address (6to4 of 127.0.0.1)'],
    ];
    for (const [ip, why] of cases) expect([ip, addressRefusal(ip)]).toEqual([ip, why]);
  });

  it('refuses IPv4-translated (SIIT) addresses, ::ffff:0:a.b.c.d', () => {
    expect(addressRefusal('::ffff:0:a00:1')).not.toBeNull();
    expect(addressRefusal('::ffff:0:5db8:d822')).not.toBeNull();
  });

  it('allows public addresses', () => {
    for (const ip of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1',
      '169.253.0.1', '11.0.0.1', '2606:4700::1', '2001:4860:4860::8888', '::ffff:93.184.216.34', '64:ff9b::5db8:d822', '2002:5db8:d822::1']) {
      expect([ip, addressRefusal(ip)]).toEqual([ip, null]);
    }
  });

  it('has nothing to say about names', () => {
    expect(addressRefusal('localhost')).toBeNull();
    expect(addressRefusal('example.com')).toBeNull();
  });
});

describe('checkWebhookDestination (save time)', () => {
  const problem = (url: string, allow = false) => {
    try {
      checkWebhookDestination('trigger.url', url, allow);
      return null;
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      return `${e.field} ${e.message}`;
    }
  };

  it('refuses IP literals and localhost in refused ranges, naming the field', () => {
    expect(problem('http://10.0.0.5/hook')).toBe('trigger.url must not point to a private or local network: 10.0.0.5 is a private address');
    expect(problem('http://169.254.169.254/latest/meta-data/')).toMatch(/169\.254\.169\.254 is a link-local address$/);
    expect(problem('http://[::1]:8080/x')).toMatch(/::1 is a loopback address$/);
    expect(problem('http://[::ffff:10.0.0.1]/x')).toMatch(/is a private address$/);
    expect(problem('http://localhost:4000/mo')).toMatch(/localhost is a loopback address$/);
    expect(problem('http://LOCALHOST./mo')).toMatch(/localhost\. is a loopback address$/);
    expect(problem('http://api.localhost/mo')).toMatch(/api\.localhost is a loopback address$/);
    // the URL parser's other spellings of 127.0.0.1 and 10.0.0.1
    expect(problem('http://2130706433/x')).toMatch(/127\.0\.0\.1 is a loopback address$/);
    expect(problem('http://0x0a.0.0.1/x')).toMatch(/10\.0\.0\.1 is a private address$/);
  });

  it('leaves names to connect time, and public addresses alone', () => {
    expect(problem('https://hooks.example.com/mo')).toBeNull();
    expect(problem('http://internal-service:8080/mo')).toBeNull();
    expect(problem('http://93.184.216.34/mo')).toBeNull();
    expect(problem('http://[2606:4700::1]/mo')).toBeNull();
  });

  it('allows everything when private networks are allowed', () => {
    expect(problem('http://127.0.0.1:4000/mo', true)).toBeNull();
    expect(problem('http://localhost:4000/mo', true)).toBeNull();
  });
});
