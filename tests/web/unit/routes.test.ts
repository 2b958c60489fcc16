// web/src/lib/routes.ts: gateway addresses as typed, in order.
import { gatewaysText, parseGateways } from '../../../web/src/lib/routes';

describe('parseGateways', () => {
  it('keeps the order, udp unless a transport is given, blank lines skipped', () => {
    expect(parseGateways('pbx-a.example.com:5060\n\n  10.0.0.2:5061 TLS \n[2001:db8::1]:5060 tcp')).toEqual({
      gateways: [
        { address: 'pbx-a.example.com:5060', transport: 'udp' },
        { address: '10.0.0.2:5061', transport: 'tls' },
        { address: '[2001:db8::1]:5060', transport: 'tcp' },
      ],
      errors: [],
    });
  });
  it('names the line of a bad entry, and wants at least one', () => {
    expect(parseGateways('a:5060\nb:5060 sctp').errors).toEqual(['line 2: transport “sctp” is not udp, tcp or tls']);
    expect(parseGateways('a b c').errors).toEqual(['line 1: “a b c” is an address and a transport at most']);
    expect(parseGateways(' \n').errors).toEqual(['give at least one gateway address']);
    expect(parseGateways(Array.from({ length: 17 }, (_, i) => `gw${i}`).join('\n')).errors).toEqual(['at most 16 gateway addresses']);
  });
  it('writes a list back as it reads it', () => {
    const text = 'a:5060\nb:5061 tls';
    expect(gatewaysText(parseGateways(text).gateways)).toBe(text);
  });
});
