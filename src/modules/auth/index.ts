/** KSR.auth: digest challenges and credential helpers (Kamailio auth names). See README.md. */
import type { ModuleDefinition } from '../../script/module.ts';
import { def, REPLY_ROUTES, REQUEST_FAILURE } from '../shared/define.ts';
import { authChallenge, consumeCredentials, hasCredentials, proxyChallenge, wwwChallenge } from './auth.ts';
import './params.ts';

const CHALLENGE = '(realm: string, flags: number) => Promise<number>';

const auth = {
  name: 'auth',
  summary: 'Digest authentication challenges (RFC 2617 / RFC 7616)',
  functions: {
    auth_challenge: def(
      CHALLENGE,
      authChallenge,
      REPLY_ROUTES,
      'Reply 401 (REGISTER) or 407 with a Digest challenge (qop=auth; stale=true after an expired nonce).',
    ),
    www_challenge: def(CHALLENGE, wwwChallenge, REPLY_ROUTES, 'Reply 401 with WWW-Authenticate.'),
    proxy_challenge: def(CHALLENGE, proxyChallenge, REPLY_ROUTES, 'Reply 407 with Proxy-Authenticate.'),
    consume_credentials: def(
      '() => number',
      consumeCredentials,
      REQUEST_FAILURE,
      'Remove the Authorization / Proxy-Authorization header before relaying.',
    ),
    has_credentials: def(
      '(realm: string) => number',
      hasCredentials,
      undefined,
      '1 when the request carries Digest credentials for `realm`.',
    ),
  },
} satisfies ModuleDefinition;

export default auth;
