import dns2 from 'dns2';

const { Packet } = dns2;
/** RFC 1035 name error (the types of this dns2 version lack Packet.RCODE). */
const NXDOMAIN = 3;
/** RFC 1035 server failure: the server could not answer (the lookup failed, not the name). */
const SERVFAIL = 2;

/** Per name: the TXT records to answer on the n-th query (1-based); undefined = NXDOMAIN, `servfail` = SERVFAIL. */
export type TxtZone = Record<string, (query: number) => string[] | undefined | 'servfail'>;

export interface DnsTestServer {
  /** For DNS_SERVERS: `127.0.0.1:<port>`. */
  address: string;
  queries: Map<string, number>;
  close(): Promise<void>;
}

/**
 * A real DNS server (UDP and TCP) on 127.0.0.1 and a random port, answering TXT queries
 * from `zone` — which can change its answer with the number of queries, as a record
 * appearing while DNS propagates would.
 */
export async function startDnsServer(zone: TxtZone): Promise<DnsTestServer> {
  const queries = new Map<string, number>();
  const server = dns2.createServer({
    udp: true,
    tcp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const name = (question?.name ?? '').toLowerCase();
      const n = (queries.get(name) ?? 0) + 1;
      queries.set(name, n);
      const records = zone[name]?.(n);
      if (records === undefined) {
        response.header.rcode = NXDOMAIN;
      } else if (records === 'servfail') {
        response.header.rcode = SERVFAIL;
      } else {
        for (const data of records) {
          response.answers.push({ name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 1, data } as never);
        }
      }
      void send(response);
    },
  });
  const addresses = await server.listen({
    udp: { port: 0, address: '127.0.0.1' },
    tcp: { port: 0, address: '127.0.0.1' },
  });
  const port = addresses.udp?.port;
  return { address: `127.0.0.1:${port}`, queries, close: () => server.close() };
}
