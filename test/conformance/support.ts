/**
 * Shared machinery of the corpus conformance tests: every message file of a corpus folder gets a
 * decided outcome (accept with field checks, or reject with a specific error code), and every
 * accepted message must round-trip byte-identically and survive the typical proxy edits as a
 * message that parses and validates again (a liberal parser must never forward what it tolerated
 * as something malformed).
 *
 * The corpus is located by test/corpus.ts: `../shared/corpus` beside the repository or
 * $JUNCTION_CORPUS; a missing corpus throws at import, so these tests fail loudly, never skip.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EditList } from '../../src/sip/edits.ts';
import { isParseError, type ParseError, type SipErrorCode } from '../../src/sip/errors.ts';
import { H } from '../../src/sip/header_names.ts';
import type { SipMessage } from '../../src/sip/message.ts';
import { parseMessage } from '../../src/sip/parse_message.ts';
import type { NameAddr, OpaqueUri, SipUri, Uri } from '../../src/sip/types.ts';
import { isSipUri, unescape as unescapeUri } from '../../src/sip/uri.ts';
import { corpusFiles } from '../corpus.ts';

/** A rejection: where it happens, the code, the response a server sends, words the detail must hold. */
export interface Rejection {
  /** 'parse': parseMessage refuses (no transaction); 'validate': parsed, refused by the sanity check. */
  stage: 'parse' | 'validate';
  code: SipErrorCode;
  /** Status a server answers a request with (responses are dropped; the status is still pinned). */
  status: number;
  /** Substring the detail must contain: the cause, named. */
  detail: string;
}

export type Outcome =
  | { kind: 'accept'; check: (m: SipMessage, buf: Buffer) => void }
  | { kind: 'reject'; rejection: Rejection; check?: (buf: Buffer, err: ParseError) => void };

export function accept(check: (m: SipMessage, buf: Buffer) => void = () => {}): Outcome {
  return { kind: 'accept', check };
}

export function reject(
  stage: Rejection['stage'],
  code: SipErrorCode,
  status: number,
  detail: string,
  check?: (buf: Buffer, err: ParseError) => void,
): Outcome {
  return check === undefined
    ? { kind: 'reject', rejection: { stage, code, status, detail } }
    : { kind: 'reject', rejection: { stage, code, status, detail }, check };
}

// ------------------------------------------------------------------------------------------ parsing

/** Parse or fail the test with the parser's own reason. */
export function mustParse(buf: Buffer, datagram = true): SipMessage {
  const m = parseMessage(buf, { datagram });
  if (isParseError(m)) assert.fail(`expected the message to parse, got ${m.toString()}`);
  return m;
}

/** Parse and validate, or fail with the reason. */
export function mustAccept(buf: Buffer): SipMessage {
  const m = mustParse(buf);
  const v = m.validate();
  if (v !== undefined) assert.fail(`expected the message to validate, got ${v.toString()}`);
  return m;
}

/** The rejection of `buf` at parse or validate time, or undefined when it is accepted. */
export function rejectionOf(buf: Buffer): { stage: 'parse' | 'validate'; err: ParseError } | undefined {
  const m = parseMessage(buf);
  if (isParseError(m)) return { stage: 'parse', err: m };
  const v = m.validate();
  return v === undefined ? undefined : { stage: 'validate', err: v };
}

export function assertRejected(buf: Buffer, want: Rejection): ParseError {
  const got = rejectionOf(buf);
  assert.ok(got !== undefined, `expected ${want.code} (${want.stage}), but the message was accepted`);
  assert.deepEqual(
    { stage: got.stage, code: got.err.code, status: got.err.status },
    { stage: want.stage, code: want.code, status: want.status },
    `rejection differs: ${got.err.toString()}`,
  );
  assert.ok(
    got.err.detail.includes(want.detail),
    `detail ${JSON.stringify(got.err.detail)} should mention ${JSON.stringify(want.detail)}`,
  );
  // The phrase a 400 carries names the reason and, when there is one, the detail.
  assert.ok(got.err.phrase.startsWith(got.err.reason));
  return got.err;
}

// ------------------------------------------------------------------------------------------ round trip and forwarding

/** Unedited serialize() is exactly the received bytes, and raw is the framed part of the buffer. */
export function assertRoundTrip(m: SipMessage, buf: Buffer): void {
  const out = m.serialize();
  assert.ok(out.equals(m.raw), 'serialize() without edits must be byte-identical to msg.raw');
  assert.ok(m.raw.equals(buf.subarray(m.start, m.end)), 'msg.raw must be the framed bytes of the datagram');
}

const PROXY_VIA_BRANCH = 'z9hG4bK-junction-conformance.1';
const PROXY_VIA = `SIP/2.0/UDP proxy.junction.test:5060;branch=${PROXY_VIA_BRANCH}`;

/**
 * A stateless proxy's edits on a request (RFC 3261 §16.6): add its Via on top, decrement
 * Max-Forwards (add 70 when absent). The result must parse and validate as a datagram, and with
 * Content-Length ensured, as a stream message too. Everything else must be carried unchanged.
 */
export function assertForwardableRequest(buf: Buffer): Buffer {
  const m = mustAccept(buf);
  assert.ok(m.maxForwards !== 0, 'a request with Max-Forwards 0 is answered 483, never forwarded');
  const list = new EditList();
  m.prependHeader('Via', PROXY_VIA, list);
  const mf = m.maxForwards < 0 ? 70 : m.maxForwards - 1;
  m.setMaxForwards(mf, list);
  const out = m.serialize(list);
  const f = mustAccept(out);
  assert.equal(f.method, m.method);
  assert.equal(f.ruri, m.ruri);
  assert.equal(f.topVia.branch, PROXY_VIA_BRANCH);
  assert.equal(f.maxForwards, mf);
  assert.equal(f.callId, m.callId);
  assert.equal(f.cseq, m.cseq);
  assert.equal(f.fromTag, m.fromTag);
  assert.equal(f.toTag, m.toTag);
  assert.ok(f.body.equals(m.body), 'the body is forwarded unchanged');
  const vias = ok(m.vias());
  const fvias = ok(f.vias());
  assert.equal(fvias.length, vias.length + 1);
  assert.deepEqual(
    fvias.slice(1).map((v) => v.raw),
    vias.map((v) => v.raw),
  );
  // Byte-exact: the Via line on top, the Max-Forwards value replaced (or the header added before
  // the empty line), every other byte as received and nothing past the framed message (dblreq).
  const b = m.buf;
  const viaLine = Buffer.from(`Via: ${PROXY_VIA}\r\n`);
  const mfi = m.findHeader(H.MAX_FORWARDS);
  const [cutStart, cutEnd] = mfi >= 0 ? m.headerValueRange(mfi) : [m.headersEnd, m.headersEnd];
  const mfText = Buffer.from(mfi >= 0 ? String(mf) : `Max-Forwards: ${mf}\r\n`);
  const expected = Buffer.concat([
    b.subarray(m.start, m.headersStart),
    viaLine,
    b.subarray(m.headersStart, cutStart),
    mfText,
    b.subarray(cutEnd, m.end),
  ]);
  assert.ok(
    out.equals(expected),
    'forwarded bytes = received bytes + Via line + new Max-Forwards, nothing else',
  );
  // On a stream transport Content-Length is mandatory: with it ensured the stream parse agrees.
  const slist = new EditList();
  m.prependHeader('Via', PROXY_VIA, slist);
  m.setMaxForwards(mf, slist);
  m.ensureContentLength(slist);
  const s = mustParse(m.serialize(slist), false);
  assert.equal(s.validate(), undefined);
  assert.equal(s.contentLength, m.bodyLength);
  assert.ok(s.body.equals(m.body));
  return out;
}

/**
 * A proxy forwarding a response upstream removes its own (top) Via value (RFC 3261 §16.7 step 3).
 * With a single Via the response is for this element and goes nowhere: returns undefined.
 */
export function assertForwardableResponse(buf: Buffer): Buffer | undefined {
  const m = mustAccept(buf);
  const vias = ok(m.vias());
  if (vias.length < 2) return undefined;
  const list = new EditList();
  assert.ok(m.removeTopVia(list));
  const out = m.serialize(list);
  const f = mustAccept(out);
  assert.equal(f.status, m.status);
  assert.deepEqual(
    ok(f.vias()).map((v) => v.raw),
    vias.slice(1).map((v) => v.raw),
  );
  assert.equal(f.topVia.raw, vias[1].raw);
  assert.equal(f.callId, m.callId);
  assert.ok(f.body.equals(m.body));
  return out;
}

export function assertForwardable(buf: Buffer): void {
  const m = mustAccept(buf);
  if (m.isRequest) {
    if (m.maxForwards !== 0) assertForwardableRequest(buf);
  } else {
    assertForwardableResponse(buf);
  }
}

// ------------------------------------------------------------------------------------------ typed access helpers

/** The value, or fail with the ParseError's reason. */
export function ok<T>(v: T | ParseError): T {
  if (isParseError(v)) assert.fail(`unexpected ${v.toString()}`);
  return v;
}

/** The value, which must be present (not undefined) and not a ParseError. */
export function present<T>(v: T | undefined | ParseError): T {
  const x = ok(v);
  assert.ok(x !== undefined, 'expected the header to be present');
  return x;
}

export function sipUri(u: Uri | ParseError): SipUri {
  const x = ok(u);
  assert.ok(isSipUri(x), `expected a sip/sips URI, got ${x.scheme}`);
  return x;
}

export function opaqueUri(u: Uri | ParseError, scheme: string): OpaqueUri {
  const x = ok(u);
  assert.equal(x.scheme, scheme);
  assert.ok('opaque' in x, `expected an opaque URI for scheme ${scheme}`);
  return x;
}

export function sipOf(na: NameAddr): SipUri {
  assert.ok(isSipUri(na.uri), `expected a sip/sips URI, got ${na.uri.scheme}`);
  return na.uri;
}

/** The unescaped user part of a sip/sips URI. */
export function userOf(u: SipUri): string {
  assert.ok(u.user !== undefined, `URI ${u.raw} has no user part`);
  return unescapeUri(u.user);
}

export function contactsOf(m: SipMessage): NameAddr[] {
  const list = present(m.contacts());
  assert.equal(list.star, false);
  return [...list.contacts];
}

/** Bytes of the header section (start line to the empty line) as latin1 text. */
export function headerText(buf: Buffer): string {
  const s = buf.toString('latin1');
  const end = s.indexOf('\r\n\r\n');
  return end < 0 ? s : s.slice(0, end + 4);
}

// ------------------------------------------------------------------------------------------ the corpus runner

/**
 * One test per message file of `folder` (files ending in `ext`), run against its decided outcome.
 * Also asserts that the decision table and the folder list the same files, so that a new corpus
 * file without a decision (or a decision whose file is gone) fails instead of passing silently.
 */
export function runCorpus(folder: string, ext: string, outcomes: Readonly<Record<string, Outcome>>): void {
  const files = corpusFiles(folder, ext);
  describe(`${folder}/ (${files.length} messages)`, () => {
    it('every message file has a decided outcome, and every decision a file', () => {
      assert.ok(files.length > 0, `no ${ext} files in corpus folder ${folder}`);
      assert.deepEqual(files.map(([name]) => name).sort(), Object.keys(outcomes).sort());
    });
    for (const [name, buf] of files) {
      const outcome = outcomes[name];
      if (outcome === undefined) continue; // reported by the test above
      if (outcome.kind === 'accept') {
        it(`${name}: accepted`, () => {
          const m = mustAccept(buf);
          assertRoundTrip(m, buf);
          outcome.check(m, buf);
          // The checks must not have edited the message (reads are side-effect free).
          assertRoundTrip(m, buf);
          assertForwardable(buf);
        });
      } else {
        const r = outcome.rejection;
        it(`${name}: rejected (${r.stage}) ${r.code} → ${r.status}`, () => {
          const err = assertRejected(buf, r);
          const m = parseMessage(buf);
          // What did parse round-trips even when the sanity check refuses it.
          if (!isParseError(m)) assertRoundTrip(m, buf);
          outcome.check?.(buf, err);
        });
      }
    }
  });
}

/** Replace the first occurrence of `from` in the message bytes (latin1, so binary bodies survive). */
export function patch(buf: Buffer, from: string, to: string): Buffer {
  const s = buf.toString('latin1');
  const i = s.indexOf(from);
  assert.ok(i >= 0, `patch: ${JSON.stringify(from)} not found`);
  return Buffer.from(s.slice(0, i) + to + s.slice(i + from.length), 'latin1');
}
