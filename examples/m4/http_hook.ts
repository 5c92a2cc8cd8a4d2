/**
 * An M4 external script over HTTP, in TypeScript: the seed's Go example
 * (../../../shared/seeds/m4-external-script.txt) line for line, with a local stub in place of the
 * public API (dummyjson.com/users/<id>).
 *
 *   node examples/m4/http_hook.ts [--listen 127.0.0.1:8833] [--api http://127.0.0.1:8834] [--stub]
 *
 * `--stub` also starts the stub API on the --api address: GET /users/<id> → {"phone": "..."}.
 * Connection point config: `external_script: http://127.0.0.1:8833`.
 */
import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** What M4 (Junction) sends. */
interface Request {
  cp_id: number;
  user_id: number;
  src: string;
  dst: string;
}

/** What M4 (Junction) expects; every field optional (omitempty). */
interface Response {
  status_code?: number;
  message?: string;
  reject_call?: number;
  new_src?: string;
  src_prefix?: string;
  src_suffix?: string;
  new_dst?: string;
  dst_prefix?: string;
  dst_suffix?: string;
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? (process.argv[i + 1] as string) : dflt;
}

const LOG_FILE = process.env.M4_HOOK_LOG ?? '/tmp/external_m4_script.log';
const listen = arg('--listen', '127.0.0.1:8833');
const api = arg('--api', 'http://127.0.0.1:8834');

function log(text: string): void {
  appendFileSync(LOG_FILE, `${new Date().toISOString()} ${text}\n`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > 65536) req.destroy();
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

/** The business logic: a new source number from the API, or a reason why not. */
async function handle(request: Request): Promise<Response> {
  // Defaults for every error: reject, as the Go example does.
  const response: Response = { status_code: 1, reject_call: 1 };
  let res: globalThis.Response;
  try {
    // 1 s, as the Go example: the call must not wait long.
    res = await fetch(`${api}/users/${request.user_id}`, { signal: AbortSignal.timeout(1000) });
  } catch (e) {
    response.message = (e as Error).name === 'TimeoutError' ? 'timeout' : 'http request error';
    return response;
  }
  if (res.status !== 200) {
    response.message = 'status code failed';
    return response;
  }
  let data: { phone?: unknown };
  try {
    data = (await res.json()) as { phone?: unknown };
  } catch {
    response.message = 'json error';
    return response;
  }
  log(`API response: ${JSON.stringify(data)}`);
  if (typeof data.phone !== 'string' || data.phone === '') {
    response.message = 'not found';
    return response;
  }
  // Success: a new source number without spaces and dashes.
  return { status_code: 0, message: 'success', new_src: data.phone.replace(/[ -]/g, '') };
}

async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let request: Request;
  try {
    request = JSON.parse(await readBody(req)) as Request;
    if (typeof request !== 'object' || request === null) throw new Error('not an object');
  } catch {
    res.statusCode = 400;
    res.end('Bad Request');
    return;
  }
  log('-- Received request from M4 --');
  log(`User ID: ${request.user_id}`);
  log(`Connection Point ID: ${request.cp_id}`);
  log(`Source number: ${request.src}`);
  log(`Destination number: ${request.dst}`);
  const response = await handle(request);
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(response));
}

/** The stand-in for dummyjson.com: users 1-100 have a phone number, others are 404. */
function startStub(): void {
  const url = new URL(api);
  createServer((req, res) => {
    const m = /^\/users\/(\d+)$/.exec(req.url ?? '');
    const id = m === null ? 0 : Number(m[1]);
    if (id < 1 || id > 100) {
      res.statusCode = 404;
      res.end('{"message":"not found"}');
      return;
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ id, firstName: 'Stub', phone: `+370 6${String(id).padStart(2, '0')}-11 111` }));
  }).listen(Number(url.port), url.hostname);
}

if (process.argv.includes('--stub')) startStub();
const [host, port] = [
  listen.slice(0, listen.lastIndexOf(':')),
  Number(listen.slice(listen.lastIndexOf(':') + 1)),
];
createServer((req, res) => {
  onRequest(req, res).catch(() => {
    res.statusCode = 500;
    res.end();
  });
}).listen(port, host, () => {
  log(`Starting server on ${listen}...`);
  // One line on stdout so a supervisor (or a test) knows it is up.
  process.stdout.write(`listening on ${listen}\n`);
});
