#!/usr/bin/env node
// An external script for Junction's persistent local mode (external_script_mode: persistent):
// one long-running process; each request is one JSON line on stdin with an "id" added to the M4
// fields ({"id":7,"cp_id":2,"user_id":2,"src":"…","dst":"…"}); each answer is one JSON line on
// stdout with the same "id" and the M4 reply fields. Answers may come in any order, so slow
// look-ups do not hold the others. Exit when stdin closes. Logs go to stderr (Junction logs them).
//
// Policy of this example (the same as local_hook.sh): 0900… rejected, 0… → 370…, "+" before src.
import { createInterface } from 'node:readline';

const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
rl.on('line', (line) => {
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    process.stderr.write(`not JSON: ${line.slice(0, 200)}\n`);
    return;
  }
  const dst = typeof req.dst === 'string' ? req.dst : '';
  let reply;
  if (dst.startsWith('0900'))
    reply = { status_code: 1, message: 'premium numbers are blocked', reject_call: 1 };
  else if (dst.startsWith('0'))
    reply = { status_code: 0, message: 'success', new_dst: `370${dst.slice(1)}`, src_prefix: '+' };
  else reply = { status_code: 0, message: 'unchanged', src_prefix: '+' };
  process.stdout.write(`${JSON.stringify({ id: req.id, ...reply })}\n`);
});
rl.on('close', () => process.exit(0));
