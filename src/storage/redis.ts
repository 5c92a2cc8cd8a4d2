/**
 * The Redis backend (ioredis): several Junction instances share one location table.
 *
 * Keys (prefix `junction:` by default):
 *   loc:<aor>   hash  contact → binding (JSON)
 *   loc:exp     zset  "<aor>\n<contact>" scored by expiry (ms): expiry sweeps and listings
 *   sub         hash  "<username>\n<domain>" → subscriber (JSON)
 * Updates of one AOR and expiry sweeps are atomic (MULTI / Lua), so two instances sweeping at
 * once report each expired binding once. Commands time out after `commandTimeoutMs` and fail at
 * once while the connection is down (one retry), so a Redis outage yields 500s, not a stuck loop;
 * ioredis reconnects on its own and the next REGISTER works again.
 */
import { Redis } from 'ioredis';
import { compact } from './sqlite.ts';
import {
  type AorUpdate,
  type Binding,
  type LocationStore,
  type Storage,
  StorageError,
  type Subscriber,
  type SubscriberStore,
} from './types.ts';

export interface RedisStorageOptions {
  prefix?: string;
  commandTimeoutMs?: number;
}

const EXPIRE_LUA = `
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local out = {}
for _, m in ipairs(members) do
  local nl = string.find(m, '\\n', 1, true)
  local aor = string.sub(m, 1, nl - 1)
  local contact = string.sub(m, nl + 1)
  local key = ARGV[2] .. aor
  local v = redis.call('HGET', key, contact)
  if v then
    local b = cjson.decode(v)
    if tonumber(b.expires) <= tonumber(ARGV[1]) then
      redis.call('HDEL', key, contact)
      table.insert(out, v)
    end
  end
  redis.call('ZREM', KEYS[1], m)
end
return out
`;

const REMOVE_AOR_LUA = `
local contacts = redis.call('HKEYS', KEYS[1])
for _, c in ipairs(contacts) do redis.call('ZREM', KEYS[2], ARGV[1] .. '\\n' .. c) end
redis.call('DEL', KEYS[1])
return #contacts
`;

const FLUSH_LUA = `
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local n = 0
for _, m in ipairs(members) do
  local nl = string.find(m, '\\n', 1, true)
  n = n + redis.call('HDEL', ARGV[1] .. string.sub(m, 1, nl - 1), string.sub(m, nl + 1))
end
redis.call('DEL', KEYS[1])
return n
`;

function wrap(e: unknown): StorageError {
  return e instanceof StorageError ? e : new StorageError(`redis: ${(e as Error).message}`, e);
}

function parseBinding(json: string): Binding {
  return compact(JSON.parse(json) as Binding);
}

export class RedisLocationStore implements LocationStore {
  private readonly r: Redis;
  private readonly p: string;

  constructor(r: Redis, prefix: string) {
    this.r = r;
    this.p = prefix;
  }

  private key(aor: string): string {
    return `${this.p}loc:${aor}`;
  }

  private get expKey(): string {
    return `${this.p}loc:exp`;
  }

  async get(aor: string, now = Date.now()): Promise<Binding[]> {
    try {
      const all = await this.r.hgetall(this.key(aor));
      return Object.values(all)
        .map(parseBinding)
        .filter((b) => b.expires > now);
    } catch (e) {
      throw wrap(e);
    }
  }

  async update(aor: string, change: AorUpdate): Promise<void> {
    const m = this.r.multi();
    const key = this.key(aor);
    for (const c of change.remove) {
      m.hdel(key, c);
      m.zrem(this.expKey, `${aor}\n${c}`);
    }
    for (const b of change.put) {
      m.hset(key, b.contact, JSON.stringify({ ...b, aor }));
      m.zadd(this.expKey, b.expires, `${aor}\n${b.contact}`);
    }
    try {
      const res = await m.exec();
      const failed = res?.find(([err]) => err !== null);
      if (failed !== undefined) throw failed[0];
    } catch (e) {
      throw wrap(e);
    }
  }

  async removeAor(aor: string): Promise<number> {
    try {
      return Number(await this.r.eval(REMOVE_AOR_LUA, 2, this.key(aor), this.expKey, aor));
    } catch (e) {
      throw wrap(e);
    }
  }

  async list(now = Date.now()): Promise<Binding[]> {
    try {
      const members = await this.r.zrangebyscore(this.expKey, `(${now}`, '+inf');
      const byAor = new Map<string, string[]>();
      for (const m of members) {
        const i = m.indexOf('\n');
        const aor = m.slice(0, i);
        const l = byAor.get(aor);
        if (l === undefined) byAor.set(aor, [m.slice(i + 1)]);
        else l.push(m.slice(i + 1));
      }
      const out: Binding[] = [];
      const pipe = this.r.pipeline();
      const aors = [...byAor.keys()];
      for (const aor of aors) pipe.hmget(this.key(aor), ...byAor.get(aor)!);
      const res = aors.length === 0 ? [] : ((await pipe.exec()) ?? []);
      for (const [err, vals] of res) {
        if (err !== null) throw err;
        for (const v of vals as Array<string | null>) if (v !== null) out.push(parseBinding(v));
      }
      return out.filter((b) => b.expires > now);
    } catch (e) {
      throw wrap(e);
    }
  }

  async expire(now: number): Promise<Binding[]> {
    try {
      const res = (await this.r.eval(EXPIRE_LUA, 1, this.expKey, String(now), `${this.p}loc:`)) as string[];
      return res.map(parseBinding);
    } catch (e) {
      throw wrap(e);
    }
  }

  async flush(): Promise<number> {
    try {
      return Number(await this.r.eval(FLUSH_LUA, 1, this.expKey, `${this.p}loc:`));
    } catch (e) {
      throw wrap(e);
    }
  }
}

export class RedisSubscriberStore implements SubscriberStore {
  private readonly r: Redis;
  private readonly key: string;

  constructor(r: Redis, prefix: string) {
    this.r = r;
    this.key = `${prefix}sub`;
  }

  private field(username: string, domain: string): string {
    return `${username}\n${domain.toLowerCase()}`;
  }

  async get(username: string, domain: string): Promise<Subscriber | undefined> {
    try {
      const v = await this.r.hget(this.key, this.field(username, domain));
      return v === null ? undefined : (JSON.parse(v) as Subscriber);
    } catch (e) {
      throw wrap(e);
    }
  }
  async put(s: Subscriber): Promise<void> {
    try {
      const sub = { ...s, domain: s.domain.toLowerCase() };
      await this.r.hset(this.key, this.field(s.username, s.domain), JSON.stringify(sub));
    } catch (e) {
      throw wrap(e);
    }
  }
  async remove(username: string, domain: string): Promise<boolean> {
    try {
      return (await this.r.hdel(this.key, this.field(username, domain))) > 0;
    } catch (e) {
      throw wrap(e);
    }
  }
  async list(): Promise<Subscriber[]> {
    try {
      return Object.values(await this.r.hgetall(this.key)).map((v) => JSON.parse(v) as Subscriber);
    } catch (e) {
      throw wrap(e);
    }
  }
  async count(): Promise<number> {
    try {
      return await this.r.hlen(this.key);
    } catch (e) {
      throw wrap(e);
    }
  }
}

export function redisStorage(url: string, opts: RedisStorageOptions = {}): Storage {
  const prefix = opts.prefix ?? 'junction:';
  const r = new Redis(url, {
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 1000,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    lazyConnect: false,
  });
  // Connection errors are reported through the failing commands (500 + storage_errors).
  r.on('error', () => undefined);
  return {
    kind: 'redis',
    location: new RedisLocationStore(r, prefix),
    subscribers: new RedisSubscriberStore(r, prefix),
    async close() {
      r.disconnect();
    },
  };
}
