/**
 * A NAT for tests, built from network namespaces (iproute2) and nftables masquerading: the
 * phone's namespace has only a private address (192.168.N.2) behind a NAT namespace, which
 * masquerades (random ports) onto a link to the root namespace (10.77.N.2 ↔ 10.77.N.1). The root
 * namespace has no route to the private network: only the NAT mapping reaches the phone.
 * Requires root; `remove()` deletes everything it made (call it in `finally`).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './harness.ts';

export interface NatTopology {
  /** The root namespace's address on the NAT link (Junction listens here). */
  publicAddress: string;
  /** The NAT's outside address (what Junction sees as the phone's source). */
  natAddress: string;
  /** The phone's private address. */
  phoneAddress: string;
  /** Run a program in the phone's namespace. */
  spawnInPhone(cmd: string, args: string[]): ChildProcess;
  remove(): void;
}

export function ensureNatTools(): void {
  execFileSync(join(REPO, 'scripts/ensure-debian.sh'), ['iproute2', 'nftables'], { stdio: 'inherit' });
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe', timeout: 10_000 });
}

function inNs(ns: string, cmd: string, ...args: string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'pipe', timeout: 10_000 });
}

export function createNat(): NatTopology {
  const n = 100 + (process.pid % 150);
  const tag = `jn${process.pid % 100000}`;
  const phoneNs = `${tag}ph`;
  const natNs = `${tag}nat`;
  const made: Array<() => void> = [];
  const remove = (): void => {
    for (const undo of made.reverse()) {
      try {
        undo();
      } catch {
        // already gone
      }
    }
    made.length = 0;
  };
  const t = {
    publicAddress: `10.77.${n}.1`,
    natAddress: `10.77.${n}.2`,
    phoneAddress: `192.168.${n}.2`,
  };
  try {
    ip('netns', 'add', phoneNs);
    made.push(() => ip('netns', 'del', phoneNs));
    ip('netns', 'add', natNs);
    made.push(() => ip('netns', 'del', natNs));
    ip('link', 'add', `${tag}a`, 'type', 'veth', 'peer', 'name', `${tag}b`);
    ip('link', 'set', `${tag}a`, 'netns', phoneNs);
    ip('link', 'set', `${tag}b`, 'netns', natNs);
    ip('link', 'add', `${tag}c`, 'type', 'veth', 'peer', 'name', `${tag}d`);
    made.push(() => ip('link', 'del', `${tag}d`));
    ip('link', 'set', `${tag}c`, 'netns', natNs);
    ip('addr', 'add', `${t.publicAddress}/24`, 'dev', `${tag}d`);
    ip('link', 'set', `${tag}d`, 'up');
    inNs(phoneNs, 'ip', 'link', 'set', 'lo', 'up');
    inNs(phoneNs, 'ip', 'addr', 'add', `${t.phoneAddress}/24`, 'dev', `${tag}a`);
    inNs(phoneNs, 'ip', 'link', 'set', `${tag}a`, 'up');
    inNs(phoneNs, 'ip', 'route', 'add', 'default', 'via', `192.168.${n}.1`);
    inNs(natNs, 'ip', 'link', 'set', 'lo', 'up');
    inNs(natNs, 'ip', 'addr', 'add', `192.168.${n}.1/24`, 'dev', `${tag}b`);
    inNs(natNs, 'ip', 'link', 'set', `${tag}b`, 'up');
    inNs(natNs, 'ip', 'addr', 'add', `${t.natAddress}/24`, 'dev', `${tag}c`);
    inNs(natNs, 'ip', 'link', 'set', `${tag}c`, 'up');
    inNs(natNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    inNs(natNs, 'nft', 'add', 'table', 'ip', 'nat');
    inNs(natNs, 'nft', 'add chain ip nat post { type nat hook postrouting priority 100 ; }');
    inNs(natNs, 'nft', 'add', 'rule', 'ip', 'nat', 'post', 'oifname', `${tag}c`, 'masquerade', 'random');
  } catch (err) {
    remove();
    throw err;
  }
  return {
    ...t,
    spawnInPhone: (cmd, args) =>
      spawn('ip', ['netns', 'exec', phoneNs, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }),
    remove,
  };
}
