/**
 * The phone of nat.test.ts, run inside the phone's network namespace: registers from its private
 * address, answers keep-alive OPTIONS, answers one call and answers the caller's BYE. Prints one
 * JSON line per step; exits 0 when the call ended, 1 on any failure.
 * Usage: node nat_phone_main.ts <bind-ip> <bind-port> <proxy-ip> <proxy-port> <user> <domain>
 */
import { SipPhone } from './sip_phone.ts';

const [bindIp, bindPort, proxyIp, proxyPort, user, domain] = process.argv.slice(2);
const say = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

async function main(): Promise<void> {
  const phone = await SipPhone.udp(
    { address: bindIp, port: Number(bindPort) },
    { address: proxyIp, port: Number(proxyPort) },
    user,
    domain,
  );
  let pings = 0;
  const answerPings = async (): Promise<void> => {
    for (;;) {
      const o = await phone.nextRequest('OPTIONS', 60_000).catch(() => undefined);
      if (o === undefined) return;
      phone.reply(o, 200);
      say({ event: 'pinged', count: ++pings, ruri: o.ruri });
    }
  };
  void answerPings();
  const reg = await phone.register(60);
  say({ event: 'registered', status: reg.status, contact: reg.getHeader('Contact') });
  if (reg.status !== 200) throw new Error(`REGISTER answered ${reg.status}`);
  const invite = await phone.nextRequest('INVITE', 30_000);
  phone.answer(invite);
  say({ event: 'answered', ruri: invite.ruri });
  const ack = await phone.nextRequest('ACK', 10_000);
  say({ event: 'ack', ruri: ack.ruri });
  const bye = await phone.nextRequest('BYE', 20_000);
  phone.reply(bye, 200);
  say({ event: 'bye', ruri: bye.ruri });
  // Let the 200 leave (and absorb a retransmitted BYE) before the socket goes.
  await new Promise((r) => setTimeout(r, 1000));
  phone.close();
  process.exit(0);
}

main().catch((err: unknown) => {
  say({ error: (err as Error).message });
  process.exit(1);
});
