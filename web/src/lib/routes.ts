// A route's gateway addresses as the administrator types them: one a line, in the order
// they are tried, each `host[:port]` with an optional transport after a space
// (`pbx.example.com:5061 tls`); udp unless said. The server checks the host itself.
import type { Schemas } from '../api/client';

export type GatewayInput = Schemas['GatewayInput'];
const kTransports = ['udp', 'tcp', 'tls'] as const;

export function parseGateways(text: string): { gateways: GatewayInput[]; errors: string[] } {
  const gateways: GatewayInput[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const [address, transport, ...rest] = line.split(/\s+/);
    const t = (transport ?? 'udp').toLowerCase();
    if (rest.length > 0) errors.push(`line ${i + 1}: “${line}” is an address and a transport at most`);
    else if (!(kTransports as readonly string[]).includes(t)) errors.push(`line ${i + 1}: transport “${transport}” is not udp, tcp or tls`);
    else if (address.length > 255) errors.push(`line ${i + 1}: the address is longer than 255 characters`);
    else gateways.push({ address, transport: t as GatewayInput['transport'] });
  });
  if (gateways.length === 0 && errors.length === 0) errors.push('give at least one gateway address');
  if (gateways.length > 16) errors.push('at most 16 gateway addresses');
  return { gateways, errors };
}

export const gatewaysText = (gs: { address: string; transport: string }[]) =>
  gs.map((g) => (g.transport === 'udp' ? g.address : `${g.address} ${g.transport}`)).join('\n');
