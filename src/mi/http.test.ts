import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { httpCall, miOverHttp } from './client.ts';
import { type MiHttpServer, startHttpServer } from './http.ts';
import { createManagement } from './index.ts';
import { fakeServer, memoryLogger } from './test_support.ts';

function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP management interface', () => {
  let http: MiHttpServer;
  let url: string;
  before(async () => {
    const { log } = memoryLogger();
    const big = { name: 'big_dump', help: '', recipes: [[]], handler: () => 'é'.repeat(500_000) };
    const { registry, statistics } = createManagement({
      server: fakeServer(),
      modules: [{ name: 'big', functions: {}, commands: [big] }],
      log,
      version: '1',
    });
    http = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      metrics: () => statistics.prometheus(),
      token: 's3cret',
      maxBodyBytes: 2048,
    });
    url = `http://127.0.0.1:${http.port}/mi`;
  });
  after(() => http.close());

  it('binds loopback and answers POST /mi with JSON-RPC', async () => {
    assert.equal(http.address, '127.0.0.1');
    const r = await miOverHttp(
      url,
      'get_statistics',
      { statistics: ['core:rcv_requests'] },
      { token: 's3cret' },
    );
    assert.deepEqual(r, { jsonrpc: '2.0', id: r.id, result: { 'core:rcv_requests': 5 } });
    const e = await miOverHttp(url, 'nope', undefined, { token: 's3cret' });
    assert.equal(e.error?.code, -32601);
  });

  it('writes large results whole', async () => {
    const r = await miOverHttp(url, 'big_dump', undefined, { token: 's3cret' });
    assert.equal(r.result, 'é'.repeat(500_000), JSON.stringify(r).slice(0, 300));
  });

  it('wants the bearer token on /mi and /metrics', async () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"uptime"}';
    assert.equal((await httpCall(url, body)).status, 401);
    assert.equal((await httpCall(url, body, { token: 'wrong!' })).status, 401);
    assert.equal((await raw(http.port, 'GET', '/metrics')).status, 401);
  });

  it('405 for other methods, 404 for other paths, 202 for notifications, 413 for big bodies', async () => {
    const auth = { Authorization: 'Bearer s3cret' };
    const g = await raw(http.port, 'GET', '/mi', auth);
    assert.equal(g.status, 405);
    assert.equal(g.headers.allow, 'POST');
    assert.equal((await raw(http.port, 'POST', '/metrics', auth)).status, 405);
    assert.equal((await raw(http.port, 'GET', '/', auth)).status, 404);
    const n = await httpCall(url, '{"jsonrpc":"2.0","method":"uptime"}', { token: 's3cret' });
    assert.deepEqual(n, { status: 202, text: '' });
    const big = await httpCall(
      url,
      `{"jsonrpc":"2.0","id":1,"method":"which","params":["${'x'.repeat(5000)}"]}`,
      { token: 's3cret' },
    );
    assert.equal(big.status, 413);
    const bad = await httpCall(url, '{"jsonrpc":', { token: 's3cret' });
    assert.equal((JSON.parse(bad.text) as { error: { code: number } }).error.code, -32700);
  });

  it('serves Prometheus text at GET /metrics', async () => {
    const m = await raw(http.port, 'GET', '/metrics', { Authorization: 'Bearer s3cret' });
    assert.equal(m.status, 200);
    assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(m.text, /\n# TYPE junction_tm_created counter\njunction_tm_created 7\n/);
    assert.match(m.text, /\njunction_mi_requests \d+\n/);
  });
});
