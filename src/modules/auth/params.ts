/** `modules.auth` parameters. */
import { registerModuleSchema } from '../../config/modules.ts';
import { custom, type Infer, integer, string } from '../../config/spec.ts';
import type { DigestAlgorithm } from './digest.ts';

const ALGS: readonly DigestAlgorithm[] = ['MD5', 'SHA-256'];

export const authSchema = registerModuleSchema(
  'auth',
  {
    nonce_expire: integer({
      doc: 'Seconds a nonce is valid; an older one gets a new challenge with stale=true.',
      default: 30,
      min: 1,
      unit: 's',
    }),
    algorithms: custom<readonly DigestAlgorithm[]>(
      'string',
      {
        doc: 'Digest algorithms offered, comma-separated, preferred first (one challenge header each): MD5, SHA-256.',
        default: 'MD5',
      },
      (value, at, ctx) => {
        if (typeof value !== 'string') {
          ctx.report(at, `expected a string such as "SHA-256,MD5", got ${typeof value}`);
          return undefined;
        }
        const out: DigestAlgorithm[] = [];
        for (const part of value.split(',')) {
          const a = part.trim().toUpperCase();
          const alg = ALGS.find((x) => x === a);
          if (alg === undefined) {
            ctx.report(
              at,
              `unknown digest algorithm ${JSON.stringify(part.trim())}; expected MD5 or SHA-256`,
            );
            return undefined;
          }
          if (!out.includes(alg)) out.push(alg);
        }
        return out;
      },
    ),
    secret: string({
      doc: 'Secret that signs nonces; empty = random at start. Set the same value on instances that share subscribers behind one address.',
      default: '',
    }),
  },
  { doc: 'Digest authentication (RFC 2617 / RFC 7616): KSR.auth and KSR.auth_db.' },
);

export type AuthParams = Infer<typeof authSchema>;
