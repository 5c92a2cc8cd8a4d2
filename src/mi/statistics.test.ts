import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Statistics } from './statistics.ts';

describe('statistics', () => {
  it('selects all, groups and names; resets counters but not gauges; exports Prometheus text', () => {
    const s = new Statistics();
    let req = 10;
    s.define({ group: 'core', name: 'rcv_requests', kind: 'counter', help: 'Requests.', read: () => req });
    s.define({ group: 'tm', name: 'inuse', kind: 'gauge', read: () => 3 });
    s.defineObject('net', ['messagesIn'], () => ({ messagesIn: 4 }), { prefix: 'udp.' });
    assert.deepEqual(s.get(['all']), { 'core:rcv_requests': 10, 'tm:inuse': 3, 'net:udp_messagesIn': 4 });
    assert.deepEqual(s.get(['tm:']), { 'tm:inuse': 3 });
    assert.deepEqual(s.get(['rcv_requests']), { 'core:rcv_requests': 10 });
    assert.deepEqual(s.get(['nothing']), {});
    assert.deepEqual(s.reset(['all']), ['core:rcv_requests', 'net:udp_messagesIn']);
    req = 12;
    assert.deepEqual(s.get(['core:', 'tm:']), { 'core:rcv_requests': 2, 'tm:inuse': 3 });
    assert.deepEqual(s.list(['tm:']), { 'tm:inuse': 'gauge' });
    const text = s.prometheus();
    assert.match(
      text,
      /^# HELP junction_core_rcv_requests Requests\.\n# TYPE junction_core_rcv_requests counter\njunction_core_rcv_requests 12\n/,
    );
    assert.match(text, /# TYPE junction_tm_inuse gauge\njunction_tm_inuse 3\n/);
    assert.throws(
      () => s.define({ group: 'tm', name: 'inuse', kind: 'gauge', read: () => 0 }),
      /already defined/,
    );
  });
});
