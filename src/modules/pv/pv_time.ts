/**
 * Time pseudo-variables. As in Kamailio, the "per message" ones ($Ts, $Tf, $TV(s), $TV(u),
 * $time(...)) are taken once per message and stay the same while it is routed; $TS, $TF and the
 * `n` variants of $TV read the clock every time.
 */
import type { RouteContext } from '../../proxy/context.ts';
import type { SipMessage } from '../../sip/message.ts';
import type { PvClass, SimplePv } from './types.ts';

const startedAt = Date.now();

/** Microseconds since the epoch, from the high-resolution clock anchored to Date.now(). */
function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

const perMessage = new WeakMap<SipMessage, number>();

function messageMicros(ctx: RouteContext): number {
  let t = perMessage.get(ctx.request);
  if (t === undefined) {
    t = nowMicros();
    perMessage.set(ctx.request, t);
  }
  return t;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** ctime(3) layout without the newline: `Thu Nov 23 12:19:00 2023` (local time). */
function ctime(ms: number): string {
  const d = new Date(ms);
  const day = d.getDate();
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day < 10 ? ` ${day}` : day} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${d.getFullYear()}`;
}

export const TIME_PVS: Readonly<Record<string, SimplePv>> = {
  Ts: { get: (ctx) => Math.floor(messageMicros(ctx) / 1e6) },
  TS: { get: () => Math.floor(Date.now() / 1000) },
  Tf: { get: (ctx) => ctime(Math.floor(messageMicros(ctx) / 1e6) * 1000) },
  TF: { get: () => ctime(Date.now()) },
  Tb: { get: () => ctime(startedAt) },
};

/** $TV(s|u|sn|un|Sn): seconds / microseconds (per message, or `n` = now), Sn = "sec.usec" now. */
export const tvClass: PvClass = (name, index) => {
  if (index !== undefined) return undefined;
  switch (name) {
    case 's':
      return { get: (ctx) => Math.floor(messageMicros(ctx) / 1e6) };
    case 'u':
      return { get: (ctx) => messageMicros(ctx) % 1e6 };
    case 'sn':
      return { get: () => Math.floor(nowMicros() / 1e6) };
    case 'un':
      return { get: () => nowMicros() % 1e6 };
    case 'Sn':
      return {
        get: () => {
          const t = nowMicros();
          return `${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, '0')}`;
        },
      };
    default:
      return undefined;
  }
};

function dayOfYear(d: Date, utc: boolean): number {
  const y = utc ? d.getUTCFullYear() : d.getFullYear();
  const start = utc ? Date.UTC(y, 0, 1) : new Date(y, 0, 1).getTime();
  const today = utc
    ? Date.UTC(y, d.getUTCMonth(), d.getUTCDate())
    : new Date(y, d.getMonth(), d.getDate()).getTime();
  return Math.round((today - start) / 86400000) + 1;
}

function isDst(d: Date): number {
  const jan = new Date(d.getFullYear(), 0, 1).getTimezoneOffset();
  const jul = new Date(d.getFullYear(), 6, 1).getTimezoneOffset();
  return d.getTimezoneOffset() < Math.max(jan, jul) ? 1 : 0;
}

/** Broken-down time fields as Kamailio's $time / $utime give them (mon 1-12, wday 1-7 with Sunday 1). */
function timeField(name: string, utc: boolean): ((d: Date) => number) | undefined {
  switch (name) {
    case 'sec':
      return (d) => (utc ? d.getUTCSeconds() : d.getSeconds());
    case 'min':
      return (d) => (utc ? d.getUTCMinutes() : d.getMinutes());
    case 'hour':
      return (d) => (utc ? d.getUTCHours() : d.getHours());
    case 'mday':
      return (d) => (utc ? d.getUTCDate() : d.getDate());
    case 'mon':
      return (d) => (utc ? d.getUTCMonth() : d.getMonth()) + 1;
    case 'year':
      return (d) => (utc ? d.getUTCFullYear() : d.getFullYear());
    case 'wday':
      return (d) => (utc ? d.getUTCDay() : d.getDay()) + 1;
    case 'yday':
      return (d) => dayOfYear(d, utc);
    case 'isdst':
      return (d) => (utc ? 0 : isDst(d));
    default:
      return undefined;
  }
}

function timeClass(utc: boolean): PvClass {
  return (name, index) => {
    const f = timeField(name, utc);
    if (f === undefined || index !== undefined) return undefined;
    return { get: (ctx) => f(new Date(Math.floor(messageMicros(ctx) / 1000))) };
  };
}

export const localTimeClass = timeClass(false);
export const utcTimeClass = timeClass(true);
