/**
 * Latency probe: a tiny UAC and UAS in this process that place calls through the proxy at a low
 * rate alongside SIPp's load, timing INVITE→200 and BYE→200 with performance.now() (µs).
 *
 * Why: SIPp's response-time trace ticks in 4 ms steps on this machine (its clock is the kernel's
 * coarse one), so on loopback nearly every SIPp sample is 0 or 4 ms. The probe calls are ordinary
 * calls (INVITE / 180 / 200 / ACK / BYE / 200, Record-Route honoured), addressed like SIPp's
 * (Request-URI = the probe UAS, every packet sent to the proxy). No retransmissions: a call whose
 * packet is lost is counted as a probe failure and excluded from the percentiles.
 *
 * The same UAC socket answers `ready()`: an OPTIONS to the proxy itself (both the default
 * Junction script and stateful.cfg answer `200 Keepalive`).
 */
import { createSocket, type Socket } from 'node:dgram';

export interface ProbeStats {
  /** Calls started (their INVITE sent). */
  started: number;
  /** Calls whose BYE got its 200. */
  completed: number;
  /** Calls with no 200 to the INVITE or to the BYE within the timeout. */
  failed: number;
  /** INVITE→200 in ms, sorted. */
  setup: number[];
  /** BYE→200 in ms, sorted. */
  bye: number[];
}

interface Call {
  n: number;
  callId: string;
  invitedAt: number;
  byeAt: number;
  state: 'inviting' | 'bye' | 'done';
}

const CRLF = '\r\n';

function header(msg: string, name: string): string | undefined {
  const re = new RegExp(`^${name}[ \\t]*:[ \\t]*(.*)$`, 'im');
  return re.exec(msg)?.[1]?.trim();
}

function headers(msg: string, name: string): string[] {
  const re = new RegExp(`^${name}[ \\t]*:[ \\t]*(.*)$`, 'gim');
  const out: string[] = [];
  for (const m of msg.matchAll(re)) out.push(m[1].trim());
  return out;
}

/** The URIs in Record-Route header values, in order ("<a>, <b>" and repeated headers). */
function routeEntries(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) for (const m of v.matchAll(/<[^>]*>[^,]*/g)) out.push(m[0].trim());
  return out;
}

export class Probe {
  private readonly uac: Socket;
  private readonly uas: Socket;
  private readonly proxyHost: string;
  private readonly proxyPort: number;
  private readonly uacPort: number;
  private readonly uasPort: number;
  private readonly run = Math.floor(Math.random() * 1e9).toString(36);
  private readonly calls = new Map<string, Call>();
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private stats: ProbeStats = { started: 0, completed: 0, failed: 0, setup: [], bye: [] };
  private readyResolve: (() => void) | undefined;
  private readonly timeoutMs: number;

  constructor(opts: {
    proxy: { host: string; port: number };
    uacPort: number;
    uasPort: number;
    timeoutMs?: number;
  }) {
    this.proxyHost = opts.proxy.host;
    this.proxyPort = opts.proxy.port;
    this.uacPort = opts.uacPort;
    this.uasPort = opts.uasPort;
    this.timeoutMs = opts.timeoutMs ?? 8000;
    this.uac = createSocket('udp4');
    this.uas = createSocket('udp4');
    this.uac.on('message', (buf) => this.onUac(buf.toString('latin1')));
    this.uas.on('message', (buf, rinfo) => this.onUas(buf.toString('latin1'), rinfo.address, rinfo.port));
    this.uac.on('error', () => undefined);
    this.uas.on('error', () => undefined);
  }

  async bind(): Promise<void> {
    const bind = (s: Socket, port: number): Promise<void> =>
      new Promise((resolve, reject) => {
        s.once('error', reject);
        s.bind({ address: '127.0.0.1', port, exclusive: true }, () => {
          s.off('error', reject);
          resolve();
        });
      });
    await bind(this.uac, this.uacPort);
    await bind(this.uas, this.uasPort);
  }

  close(): void {
    this.stop();
    this.uac.close();
    this.uas.close();
  }

  /** Resolves once the proxy answers an OPTIONS (any final response), false after `timeoutMs`. */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const answered = new Promise<boolean>((resolve) => {
        this.readyResolve = () => resolve(true);
        setTimeout(() => resolve(false), 300);
      });
      const branch = `z9hG4bK${this.run}o${this.next++}`;
      this.send(
        [
          `OPTIONS sip:${this.proxyHost}:${this.proxyPort} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${this.uacPort};branch=${branch};rport`,
          'Max-Forwards: 70',
          `From: <sip:probe@127.0.0.1:${this.uacPort}>;tag=${branch}`,
          `To: <sip:${this.proxyHost}:${this.proxyPort}>`,
          `Call-ID: ready-${branch}@127.0.0.1`,
          'CSeq: 1 OPTIONS',
          'Content-Length: 0',
        ],
        this.uac,
      );
      if (await answered) {
        this.readyResolve = undefined;
        return true;
      }
    }
    this.readyResolve = undefined;
    return false;
  }

  /** Start placing `rate` calls/s (0 = none) and reset the statistics. */
  start(rate: number): void {
    this.stop();
    this.stats = { started: 0, completed: 0, failed: 0, setup: [], bye: [] };
    this.calls.clear();
    if (rate <= 0) return;
    this.timer = setInterval(() => {
      this.invite();
      this.expire();
    }, 1000 / rate);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stop placing calls, give the ones in flight `graceMs`, return the statistics. */
  async finish(graceMs = 1000): Promise<ProbeStats> {
    this.stop();
    const deadline = performance.now() + graceMs;
    while (performance.now() < deadline && [...this.calls.values()].some((c) => c.state !== 'done'))
      await new Promise((r) => setTimeout(r, 20));
    for (const c of this.calls.values()) if (c.state !== 'done') this.stats.failed++;
    this.calls.clear();
    this.stats.setup.sort((a, b) => a - b);
    this.stats.bye.sort((a, b) => a - b);
    return this.stats;
  }

  private send(lines: string[], socket: Socket, host = this.proxyHost, port = this.proxyPort): void {
    socket.send(Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1'), port, host);
  }

  private expire(): void {
    const now = performance.now();
    for (const [id, c] of this.calls) {
      if (c.state === 'done') {
        this.calls.delete(id);
      } else if (now - c.invitedAt > this.timeoutMs) {
        this.stats.failed++;
        this.calls.delete(id);
      }
    }
  }

  private invite(): void {
    const n = this.next++;
    const callId = `probe-${this.run}-${n}@127.0.0.1`;
    const c: Call = { n, callId, invitedAt: performance.now(), byeAt: 0, state: 'inviting' };
    this.calls.set(callId, c);
    this.stats.started++;
    this.send(
      [
        `INVITE sip:probe@127.0.0.1:${this.uasPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${this.uacPort};branch=z9hG4bK${this.run}i${n};rport`,
        'Max-Forwards: 70',
        `From: <sip:probe@127.0.0.1:${this.uacPort}>;tag=f${this.run}${n}`,
        `To: <sip:probe@127.0.0.1:${this.uasPort}>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:probe@127.0.0.1:${this.uacPort}>`,
        'Content-Length: 0',
      ],
      this.uac,
    );
  }

  private onUac(msg: string): void {
    const now = performance.now();
    const status = /^SIP\/2\.0 (\d{3})/.exec(msg);
    if (status === null) return;
    const code = Number(status[1]);
    const cseq = header(msg, 'CSeq') ?? '';
    if (cseq.endsWith('OPTIONS')) {
      if (code >= 200) this.readyResolve?.();
      return;
    }
    const callId = header(msg, 'Call-ID') ?? header(msg, 'i') ?? '';
    const c = this.calls.get(callId);
    if (c === undefined || code < 200) return;
    if (cseq.endsWith('INVITE') && c.state === 'inviting') {
      if (code >= 300) {
        c.state = 'done';
        this.stats.failed++;
        return;
      }
      this.stats.setup.push(now - c.invitedAt);
      const to = header(msg, 'To') ?? header(msg, 't') ?? '';
      const contact = /<([^>]*)>/.exec(header(msg, 'Contact') ?? header(msg, 'm') ?? '')?.[1];
      const routes = routeEntries(headers(msg, 'Record-Route')).reverse();
      const target = contact ?? `sip:probe@127.0.0.1:${this.uasPort}`;
      const common = (method: string, cseqNo: number, branch: string): string[] => [
        `${method} ${target} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${this.uacPort};branch=${branch};rport`,
        ...(routes.length > 0 ? [`Route: ${routes.join(', ')}`] : []),
        'Max-Forwards: 70',
        `From: <sip:probe@127.0.0.1:${this.uacPort}>;tag=f${this.run}${c.n}`,
        `To: ${to}`,
        `Call-ID: ${c.callId}`,
        `CSeq: ${cseqNo} ${method}`,
        'Content-Length: 0',
      ];
      this.send(common('ACK', 1, `z9hG4bK${this.run}a${c.n}`), this.uac);
      c.state = 'bye';
      c.byeAt = performance.now();
      this.send(common('BYE', 2, `z9hG4bK${this.run}b${c.n}`), this.uac);
      return;
    }
    if (cseq.endsWith('BYE') && c.state === 'bye') {
      c.state = 'done';
      if (code >= 300) {
        this.stats.failed++;
        return;
      }
      this.stats.bye.push(now - c.byeAt);
      this.stats.completed++;
    }
  }

  private onUas(msg: string, host: string, port: number): void {
    const first = msg.slice(0, msg.indexOf('\r\n'));
    const method = /^([A-Z]+) /.exec(first)?.[1];
    if (method === undefined || method === 'ACK') return;
    const vias = headers(msg, 'Via').concat(headers(msg, 'v'));
    const callId = header(msg, 'Call-ID') ?? header(msg, 'i') ?? '';
    let to = header(msg, 'To') ?? header(msg, 't') ?? '';
    if (method === 'INVITE' && !/;\s*tag=/i.test(to)) to += `;tag=t${callId.replace(/[^A-Za-z0-9]/g, '')}`;
    const base = (status: string): string[] => [
      `SIP/2.0 ${status}`,
      ...vias.map((v) => `Via: ${v}`),
      ...(method === 'INVITE' ? headers(msg, 'Record-Route').map((r) => `Record-Route: ${r}`) : []),
      `From: ${header(msg, 'From') ?? header(msg, 'f') ?? ''}`,
      `To: ${to}`,
      `Call-ID: ${callId}`,
      `CSeq: ${header(msg, 'CSeq') ?? ''}`,
      `Contact: <sip:probe@127.0.0.1:${this.uasPort}>`,
      'Content-Length: 0',
    ];
    if (method === 'INVITE') this.send(base('180 Ringing'), this.uas, host, port);
    this.send(base('200 OK'), this.uas, host, port);
  }
}

/** Nearest-rank percentile of sorted values (undefined when empty). */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i];
}
