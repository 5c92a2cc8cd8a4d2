import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { expandFormat, parseFormat } from '../pv/format.ts';
import { fakeContext, request } from '../testing/fake_context.ts';
import { buildCommand, shellQuote } from './command.ts';

/** What /bin/sh prints for `printf '%s\n' <words>`: one line per shell word. */
function words(command: string): string[] {
  return execFileSync('/bin/sh', ['-c', `printf '%s\\n' ${command}`], { encoding: 'utf8' })
    .split('\n')
    .slice(0, -1);
}

const hostile = '"Eve $(touch /tmp/x) `id` \'q\' \\ ; |" <sip:eve@example.com>;tag=1';

describe('pseudo-variables in a format string', () => {
  const ctx = fakeContext(request({ ruri: 'sip:alice@example.com' }));

  it('expands $pv, $(pv), $hdr(Name); $$ is a literal $; unknown $NAME stays for the shell', () => {
    assert.equal(
      expandFormat(ctx, 'u=$rU d=$(rd) cid=$hdr(Call-ID)'),
      'u=alice d=example.com cid=a84b4c76e66710@pc33.atlanta.example.com',
    );
    const braces = '$' + '{HOME}';
    assert.equal(
      expandFormat(ctx, `echo $$SIP_OUSER $SIP_HF_FROM ${braces} $(date)`),
      `echo $SIP_OUSER $SIP_HF_FROM ${braces} $(date)`,
    );
  });

  it('a name running into text is cut back at a dot: /tmp/$rU.txt', () => {
    assert.equal(expandFormat(ctx, '/tmp/$rU.txt'), '/tmp/alice.txt');
    assert.equal(expandFormat(ctx, '$ruri.user'), 'alice');
    assert.equal(parseFormat('plain text').length, 1);
  });
});

describe('values reach the shell as one word, never as shell syntax', () => {
  const ctx = fakeContext(request({ from: hostile }));

  it('outside quotes, inside single quotes, inside double quotes', () => {
    assert.deepEqual(words(buildCommand(ctx, '$fu')), ['sip:eve@example.com']);
    assert.deepEqual(words(buildCommand(ctx, '$hdr(From)')), [hostile]);
    assert.deepEqual(words(buildCommand(ctx, "'$hdr(From)'")), [hostile]);
    assert.deepEqual(words(buildCommand(ctx, '"from: $hdr(From)!"')), [`from: ${hostile}!`]);
    assert.deepEqual(words(buildCommand(ctx, 'x\'a$fU\'b "c$fU"d')), ['xaeveb', 'ceved']);
  });

  it('shellQuote makes one word of anything', () => {
    for (const v of ['', "'", "a'b", '$(id)', '`id`', 'a b\tc', hostile])
      assert.deepEqual(words(shellQuote(v)), [v]);
  });

  it('the operator’s own shell syntax keeps working', () => {
    assert.deepEqual(words(buildCommand(ctx, '$fU "$$HOME" \\$x')), ['eve', process.env.HOME ?? '', '$x']);
  });
});
