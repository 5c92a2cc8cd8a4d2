import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isParseError, ParseError } from './errors.ts';
import type { Via } from './types.ts';
import {
  checkReceived,
  lastViaEnd,
  parseTopVia,
  parseTopViaParm,
  parseViaList,
  parseViaListAfter,
} from './via.ts';

function list(text: string): Via[] {
  const r = parseViaList(text);
  if (r instanceof ParseError) assert.fail(`unexpected error for ${JSON.stringify(text)}: ${r.detail}`);
  return r;
}

function one(text: string): Via {
  const r = list(text);
  assert.equal(r.length, 1);
  return r[0];
}

function bad(text: string, detail: string | RegExp): void {
  for (const r of [parseViaList(text), parseTopVia(text)]) {
    assert.ok(isParseError(r), `expected an error for ${JSON.stringify(text)}`);
    assert.equal(r.code, 'SIP_VIA');
    if (typeof detail === 'string') assert.equal(r.detail, detail);
    else assert.match(r.detail, detail);
  }
}

test('typical Via values', () => {
  const v = one('SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8');
  assert.equal(v.protocol, 'SIP');
  assert.equal(v.version, '2.0');
  assert.equal(v.transport, 'UDP');
  assert.equal(v.host, 'pc33.atlanta.com');
  assert.equal(v.port, undefined);
  assert.equal(v.branch, 'z9hG4bKnashds8');
  assert.equal(v.received, undefined);
  assert.equal(v.rport, undefined);
  assert.equal(v.ttl, undefined);
  assert.equal(v.maddr, undefined);
  assert.equal(v.raw, 'SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8');
  assert.equal(v.params.toString(), ';branch=z9hG4bKnashds8');

  const p = one(
    'SIP/2.0/UDP 127.0.0.1:5003;branch=z9hG4bK0495dc29b7eb40008779a75c3734c4c5;rport=5003;received=127.0.0.1',
  );
  assert.equal(p.port, 5003);
  assert.equal(p.rport, 5003);
  assert.equal(p.received, '127.0.0.1');

  const f = one('SIP/2.0/TLS 10.2.19.102:58179;rport;branch=z9hG4bKPj9893426a070f4c26ab494ceb746836a6');
  assert.equal(f.transport, 'TLS');
  assert.equal(f.rport, null);
  assert.equal(f.branch, 'z9hG4bKPj9893426a070f4c26ab494ceb746836a6');

  const noBranch = one('SIP/2.0/UDP iftgw.example.com'); // RFC 4475 inv2543
  assert.equal(noBranch.branch, undefined);
  assert.equal(noBranch.params.size, 0);
  assert.equal(one('SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK').branch, 'z9hG4bK'); // badbranch parses
  assert.equal(
    one('SIP/2.0/UDP 213.168.225.133:5060;branch=z9hG4bKG+WGOVwLyT6vOW9s').branch,
    'z9hG4bKG+WGOVwLyT6vOW9s',
  );
  assert.equal(one("SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~").branch, "z9hG4bK-.!%66*_+`'~"); // intmeth
  assert.equal(
    one('SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234').branch,
    'z9hG4bK209%fzsnel234',
  ); // esc02
  const x = one('SIP/2.0/UDP 10.0.0.1:5060;branch=yxxxcvvvbbbnnmm1;X-DispMsg=1423');
  assert.equal(x.params.get('x-dispmsg'), '1423');
  const scanner = one('SIP/2.0/UDP 192.241.212.6:56500;branch=nGTWdf.1124599842;rport;alias');
  assert.ok(scanner.params.has('alias'));
  assert.equal(one('SIP/2.0/UDP 239.255.255.1;maddr=239.255.255.1;ttl=15').ttl, 15);
  assert.equal(one('SIP/2.0/UDP a.example.com;maddr=239.255.255.1;ttl=0').maddr, '239.255.255.1');
  assert.equal(one('SIP/2.0/UDP a.example.com;ttl=255').ttl, 255);
  assert.equal(one('SIP/2.0/UDP a.example.com;rport=0').rport, 0);
  assert.equal(one('SIP/2.0/UDP a.example.com;BRANCH=z9hG4bKx;Branch=other').branch, 'z9hG4bKx');
});

test('LWS everywhere and the transport upper-cased (RFC 4475 wsinv)', () => {
  const v = one('SIP  /   2.0 /UDP     192.0.2.2;branch=390skdjuw');
  assert.equal(v.protocol, 'SIP');
  assert.equal(v.version, '2.0');
  assert.equal(v.transport, 'UDP');
  assert.equal(v.host, '192.0.2.2');
  const vs = list(
    'SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8  , SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239',
  );
  assert.equal(vs.length, 2);
  assert.equal(vs[0].transport, 'TCP');
  assert.equal(vs[0].host, 'spindle.example.com');
  assert.equal(vs[0].branch, 'z9hG4bK9ikj8');
  assert.equal(vs[0].raw, 'SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8');
  assert.equal(vs[1].transport, 'UDP');
  assert.equal(vs[1].host, '192.168.255.111');
  assert.equal(vs[1].branch, 'z9hG4bK30239');
  assert.equal(vs[1].raw, 'SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239');
  assert.equal(one('SIP/2.0/udp host').transport, 'UDP');
  assert.equal(one('sip/2.0/Tcp host').transport, 'TCP');
  assert.equal(one('sip/2.0/Tcp host').protocol, 'sip', 'the protocol name is kept as written');
  assert.equal(one('SIP/2.0/ws host').transport, 'WS');
  assert.equal(one('SIP/2.0/wss host').transport, 'WSS');
  assert.equal(one('SIP/2.0/sctp host').transport, 'SCTP');
  assert.equal(one('SIP/2.0/Tls host').transport, 'TLS');
  assert.equal(one('SIP/2.0/UDP host : 5060 ;branch=x').port, 5060);
  assert.equal(one('SIP/2.0/ UDP host').transport, 'UDP');
  assert.equal(one('SIP/2.0 /UDP host').transport, 'UDP');
  assert.equal(one('SIP/3.0/UDP host').version, '3.0');
  assert.equal(one('SIP/2.0/UDP host   ').raw, 'SIP/2.0/UDP host');
});

test('unknown transports are kept (RFC 4475 transports)', () => {
  const t = ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP'].map(
    (tr, i) => one(`SIP/2.0/${tr} t${i + 1}.example.com;branch=z9hG4bK${i}`).transport,
  );
  assert.deepEqual(t, ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  assert.equal(one('SIP/2.0/foo-bar host').transport, 'FOO-BAR');
});

test('IPv6 sent-by and received (RFC 5118)', () => {
  const g = one('SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111');
  assert.equal(g.host, '[2001:db8::9:1]');
  assert.equal(g.port, undefined);
  const m = list(
    'SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111, SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKjhja8781hjuaij65144,SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200',
  );
  assert.deepEqual(
    m.map((v) => [v.host, v.port, v.transport, v.received]),
    [
      ['[2001:db8::9:1]', 6050, 'UDP', undefined],
      ['192.0.2.1', undefined, 'UDP', undefined],
      ['[2001:db8::9:255]', undefined, 'TCP', '192.0.2.200'],
    ],
  );
  // 4.5 both forms must parse
  assert.equal(
    one('SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3').received,
    '2001:db8::9:255',
  );
  assert.equal(
    one('SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111').received,
    '[2001:db8::9:255]',
  );
  // 4.9 IPv4-mapped
  const v4m = one('SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19');
  assert.equal(v4m.host, '[::ffff:192.0.2.10]');
  assert.equal(v4m.port, 19823);
  bad('SIP/2.0/UDP 2001:db8::9:1;branch=x', 'IPv6 address in sent-by must be enclosed in [ ] (RFC 5118)');
  bad('SIP/2.0/UDP fe80::1;branch=x', 'IPv6 address in sent-by must be enclosed in [ ] (RFC 5118)');
  bad('SIP/2.0/UDP [2001:db8:::192.0.2.1];branch=x', '":::" in IPv6 address (RFC 5118 §4.10) in sent-by');
  bad('SIP/2.0/UDP [2001:db8::1;branch=x', 'IPv6 reference without closing ] in sent-by');
});

test('received with a port, as Asterisk sends it, is kept raw', () => {
  const a = list(
    'SIP/2.0/UDP 213.168.225.135:5060;branch=z9hG4bKT36BdhXPlT5cqPFQQr81yMmZ37U=, SIP/2.0/UDP 192.168.1.2:5065;received=220.240.255.198:64216;branch=z9hG4bK7D8B6549580844AEA104BD4A837049DD',
  );
  assert.equal(a.length, 2);
  assert.equal(a[0].branch, 'z9hG4bKT36BdhXPlT5cqPFQQr81yMmZ37U=', 'a trailing "=" is not a token char...');
  assert.equal(a[1].received, '220.240.255.198:64216');
  assert.equal(a[1].branch, 'z9hG4bK7D8B6549580844AEA104BD4A837049DD');
  const b = one(
    'SIP/2.0/UDP 192.168.1.2:5066;received=220.240.255.198:64066;branch=65cacee9-25b6-405c-8f82-e40427438af7',
  );
  assert.equal(b.received, '220.240.255.198:64066');
  assert.equal(one('SIP/2.0/UDP h;received=[2001:db8::1]:5060').received, '[2001:db8::1]:5060');
});

test('checkReceived', () => {
  assert.equal(checkReceived('192.0.2.1'), '');
  assert.equal(checkReceived('2001:db8::9:255'), '');
  assert.equal(checkReceived('[2001:db8::9:255]'), '');
  assert.equal(checkReceived('1.2.3.4:5060'), '');
  assert.equal(checkReceived('[::1]:5060'), '');
  assert.equal(checkReceived(''), 'empty received parameter');
  assert.equal(checkReceived('example.com'), 'received is not an IP address');
  assert.equal(checkReceived('example.com:5060'), 'received is not an IP address');
  assert.equal(checkReceived('1.2.3.4:99999'), 'invalid port in received');
  assert.equal(checkReceived('1.2.3.4:'), 'invalid port in received');
  assert.equal(checkReceived('[::1]5060'), 'invalid port in received');
  assert.equal(checkReceived('[::1'), 'IPv6 reference without closing ] in received');
  assert.equal(checkReceived('[1::2::3]'), 'more than one "::" in IPv6 address in received');
  assert.equal(checkReceived('2001:db8:::1'), '":::" in IPv6 address (RFC 5118 §4.10) in received');
});

test('extra separators are errors (RFC 4475 badinv01)', () => {
  bad('SIP/2.0/UDP 192.0.2.15;;,;,,', 'empty parameter');
  bad('SIP/2.0/UDP 192.0.2.15;', 'empty parameter');
  bad('SIP/2.0/UDP 192.0.2.15;branch=a;', 'empty parameter');
  bad(',SIP/2.0/UDP 192.0.2.15', 'empty Via value (extra ",")');
  bad('SIP/2.0/UDP 192.0.2.15,', 'trailing "," after Via value');
  bad('SIP/2.0/UDP 192.0.2.15, ', 'trailing "," after Via value');
  bad('SIP/2.0/UDP 192.0.2.15,,SIP/2.0/UDP 192.0.2.16', 'empty Via value (extra ",")');
  bad('SIP/2.0/UDP a, ,SIP/2.0/UDP b', 'empty Via value (extra ",")');
});

test('malformed Via values', () => {
  bad('', 'empty Via value');
  bad('   ', 'empty Via value');
  bad('SIP', 'expected "/" after protocol name, found end of text');
  bad('SIP 2.0/UDP host', 'expected "/" after protocol name, found "2"');
  bad('SIP/', 'missing protocol version, found end of text');
  bad('SIP/2.0', 'expected "/" after protocol version, found end of text');
  bad('SIP/2.0/', 'missing transport, found end of text');
  bad('SIP/2.0/UDP', 'missing sent-by host');
  bad('SIP/2.0/UDP   ', 'missing sent-by host');
  bad('SIP/2.0/UDP;branch=x', 'expected whitespace after transport, found ";"');
  bad('SIP/2.0/UDP host:', 'invalid end of text in sent-by port');
  bad('SIP/2.0/UDP host:x', 'invalid "x" in sent-by port');
  bad('SIP/2.0/UDP host:70000', 'sent-by port 70000 out of range 0-65535');
  bad('SIP/2.0/UDP host junk', 'unexpected "j" after sent-by');
  bad('SIP/2.0/UDP host;branch=a junk', 'unexpected "j" after parameter "branch"');
  bad('SIP/2.0/UDP 1.2.3.999', 'invalid IPv4 address "1.2.3.999" in sent-by');
  bad('SIP/2.0/UDP <host>', 'invalid "<" in host in sent-by');
  bad('@/2.0/UDP host', 'invalid "@" at start of Via value');
  bad('SIP/2.0/UDP host;branch', 'branch parameter without a value');
  bad('SIP/2.0/UDP host;branch=', 'missing value after "=" in parameter "branch"');
  bad('SIP/2.0/UDP host;branch=""', 'branch parameter without a value');
  bad('SIP/2.0/UDP host;received', 'received parameter without a value');
  bad('SIP/2.0/UDP host;received=example.com', 'received is not an IP address');
  bad('SIP/2.0/UDP host;rport=abc', 'invalid rport value "abc"');
  bad('SIP/2.0/UDP host;rport=65536', 'invalid rport value "65536"');
  bad('SIP/2.0/UDP host;ttl=256', 'invalid ttl value "256" (0-255)');
  bad('SIP/2.0/UDP host;ttl', 'invalid ttl value "" (0-255)');
  bad('SIP/2.0/UDP host;maddr', 'invalid maddr value ""');
  bad('SIP/2.0/UDP host;maddr=a..b', 'invalid maddr value "a..b"');
  bad('SIP/2.0/UDP host;x="unterminated', 'unterminated quoted string in parameter "x"');
});

test('parseTopVia parses only the first via-parm', () => {
  const text =
    'SIP/2.0/UDP 194.213.29.100:5060;branch=z9hG4bK5feb18267ce40fb05969b4ba843681dbfc9ffcff, SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK52b6a8b7';
  const r = parseTopVia(text);
  assert.ok(!isParseError(r));
  assert.equal(r.via.host, '194.213.29.100');
  assert.equal(r.via.port, 5060);
  assert.equal(r.via.branch, 'z9hG4bK5feb18267ce40fb05969b4ba843681dbfc9ffcff');
  assert.equal(text.slice(r.rest), 'SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK52b6a8b7');
  const single = 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw';
  const s = parseTopVia(single);
  assert.ok(!isParseError(s));
  assert.equal(s.rest, single.length);
  // the rest is not validated beyond "there is something": a bad second value is found by parseViaList
  const lazy = parseTopVia('SIP/2.0/UDP a;branch=z9hG4bK1, garbage');
  assert.ok(!isParseError(lazy));
  assert.ok(isParseError(parseViaList('SIP/2.0/UDP a;branch=z9hG4bK1, garbage')));
});

test('parseViaListAfter continues after the top Via exactly as parseViaList parses the whole list', () => {
  const texts = [
    'SIP/2.0/UDP a;branch=z9hG4bK1',
    'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b:5070;received=10.0.0.1',
    'SIP/2.0/UDP a;branch=z9hG4bK1 ,SIP/2.0/UDP b ,  SIP/2.0/UDP c;rport=5',
    'SIP/2.0/UDP a;branch=z9hG4bK1, garbage',
    'SIP/2.0/UDP a;branch=z9hG4bK1, ',
    'SIP/2.0/UDP a;branch=z9hG4bK1,,SIP/2.0/UDP b',
  ];
  for (const text of texts) {
    const top = parseTopVia(text);
    const whole = parseViaList(text);
    if (isParseError(top)) {
      assert.ok(isParseError(whole), text);
      continue;
    }
    const after = parseViaListAfter(text, top.via, top.end);
    if (isParseError(whole)) {
      assert.ok(isParseError(after), text);
      assert.equal(after.detail, whole.detail, text);
    } else {
      assert.ok(!isParseError(after), text);
      assert.deepEqual(after, whole, text);
    }
  }
});

test('parseTopViaParm and lastViaEnd answer as parseTopVia', () => {
  const texts = [
    'SIP/2.0/UDP a;branch=z9hG4bK1',
    'SIP/2.0/UDP a;branch=z9hG4bK1 , SIP/2.0/TCP b',
    'SIP/2.0/UDP a;branch=z9hG4bK1,',
    'SIP/2.0/UDP a;branch=z9hG4bK1,,SIP/2.0/UDP b',
    'SIP / 2.0 / udp [::1]:5060 ;rport;received=10.0.0.1',
    'garbage',
  ];
  for (const text of texts) {
    const want = parseTopVia(text);
    const got = parseTopViaParm(text);
    if (isParseError(want)) {
      assert.ok(isParseError(got), text);
      assert.equal(got.detail, want.detail);
    } else {
      assert.ok(!isParseError(got), text);
      assert.equal(lastViaEnd(), want.end, text);
      assert.deepEqual(
        { ...got, params: got.params.toString() },
        { ...want.via, params: want.via.params.toString() },
      );
    }
  }
});
