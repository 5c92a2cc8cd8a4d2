import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, request } from '../modules/testing/fake_context.ts';
import { restoreResponseIdentity, userOf, withUserInValue } from './identity.ts';

describe('From/To identity replacement', () => {
  it('replaces the user of a name-addr or addr-spec, escaping it; keeps display name and params', () => {
    assert.equal(
      withUserInValue('"A" <sip:0037@h:5060;user=phone>;tag=x', '+370#1'),
      '"A" <sip:+370%231@h:5060;user=phone>;tag=x',
    );
    assert.equal(withUserInValue('sip:bob@example.com;tag=9', '44'), 'sip:44@example.com;tag=9');
    assert.equal(withUserInValue('<tel:+3706;phone-context=x>', '+4412'), '<tel:+4412;phone-context=x>');
    // No user part: nothing to replace.
    assert.equal(withUserInValue('<sip:example.com>', '1'), '<sip:example.com>');
    assert.equal(userOf('"A" <sip:%2B370@h>;tag=1'), '+370');
  });

  it('gives responses back the From and To their request arrived with, keeping the To tag', () => {
    const req = parse(request({ from: '"Me" <sip:0037000@caller>;tag=abc', to: '<sip:861234@callee>' }));
    const res = parse(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds
From: <sip:+37011@junction>;tag=abc
To: <sip:0037061234@tp>;tag=callee-tag
Call-ID: a84b4c76e66710
CSeq: 314159 INVITE
Content-Length: 0

`);
    restoreResponseIdentity(res, req);
    const out = res.serialize().toString();
    assert.match(out, /\r\nFrom: "Me" <sip:0037000@caller>;tag=abc\r\n/);
    assert.match(out, /\r\nTo: <sip:861234@callee>;tag=callee-tag\r\n/);
  });
});
