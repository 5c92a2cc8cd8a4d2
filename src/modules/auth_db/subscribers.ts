/** Subscriber management shared by the MI commands and `junction subscriber`. */
import type { Subscriber, SubscriberStore } from '../../storage/types.ts';
import { ha1 } from '../auth/digest.ts';

/** A subscriber from a plain password: only its HA1 hashes are kept (realm = domain). */
export function subscriberFromPassword(username: string, domain: string, password: string): Subscriber {
  const d = domain.toLowerCase();
  return {
    username,
    domain: d,
    ha1: ha1('MD5', username, d, password),
    ha1b: ha1('MD5', `${username}@${d}`, d, password),
    ha1Sha256: ha1('SHA-256', username, d, password),
  };
}

const NAME = /^[^\s:@"]+$/;
const DOMAIN = /^[A-Za-z0-9.\-[\]:]+$/;

export function checkNames(username: string, domain: string): string | undefined {
  if (!NAME.test(username)) return `invalid username ${JSON.stringify(username)}`;
  if (!DOMAIN.test(domain)) return `invalid domain ${JSON.stringify(domain)}`;
  return undefined;
}

export async function addSubscriber(store: SubscriberStore, s: Subscriber): Promise<void> {
  await store.put(s);
}

/** What listings show: never a password (none is stored) and never the hashes in full. */
export function subscriberView(s: Subscriber): Record<string, string> {
  return {
    username: s.username,
    domain: s.domain,
    ha1: `${s.ha1.slice(0, 6)}…`,
    sha256: s.ha1Sha256 === '' ? 'no' : 'yes',
  };
}
