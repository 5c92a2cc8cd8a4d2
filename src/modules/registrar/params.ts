/** `modules.registrar` and `modules.usrloc` parameters (Kamailio's names). */
import { registerModuleSchema } from '../../config/modules.ts';
import { flag, type Infer, integer } from '../../config/spec.ts';

export const registrarSchema = registerModuleSchema(
  'registrar',
  {
    default_expires: integer({
      doc: 'Expiry of a binding whose REGISTER gives none (no Expires header, no expires parameter).',
      default: 3600,
      min: 1,
      unit: 's',
    }),
    min_expires: integer({
      doc: 'Shortest accepted non-zero expiry; shorter gets 423 Interval Too Brief with Min-Expires. 0 = no minimum.',
      default: 60,
      min: 0,
      unit: 's',
    }),
    max_expires: integer({
      doc: 'Longer requested expiries are lowered to this. 0 = no maximum.',
      default: 3600,
      min: 0,
      unit: 's',
    }),
    use_domain: flag({
      doc: 'AORs include the domain (`alice@example.com`); by default the user part alone (`alice`).',
      default: 0,
    }),
    max_contacts: integer({
      doc: 'Most bindings per AOR; a REGISTER that would exceed it gets 503. 0 = unlimited.',
      default: 0,
      min: 0,
    }),
    method_filtering: flag({
      doc: "lookup() of an initial request (no To tag) skips contacts that do not accept its method (Contact `methods` parameter or the REGISTER's Allow header) and returns -2 when none does.",
      default: 0,
    }),
    expires_range: integer({
      doc: 'A requested expiry is lowered by a random 0..N % (spreads refreshes); save() flag 0x08 turns it off for one REGISTER.',
      default: 0,
      min: 0,
      max: 100,
      unit: '%',
    }),
    default_expires_range: integer({
      doc: 'Like expires_range, for default_expires (a REGISTER that gives no expiry).',
      default: 0,
      min: 0,
      max: 100,
      unit: '%',
    }),
  },
  {
    doc: 'Registrar (RFC 3261 §10): KSR.registrar.save / lookup.',
    refine(p, at, ctx) {
      if (p.max_expires !== 0 && p.min_expires > p.max_expires)
        ctx.report(
          [...at, 'min_expires'],
          `must not exceed max_expires (${p.max_expires}), got ${p.min_expires}`,
        );
    },
  },
);

export type RegistrarParams = Infer<typeof registrarSchema>;

export const usrlocSchema = registerModuleSchema(
  'usrloc',
  {
    timer_interval: integer({
      doc: 'How often expired bindings are removed (with a log line and the expired_contacts statistic).',
      default: 10,
      min: 1,
      unit: 's',
    }),
  },
  { doc: 'Location table (usrloc): expiry timer. The storage itself is the top-level `storage` key.' },
);

export type UsrlocParams = Infer<typeof usrlocSchema>;

export const REGISTRAR_DEFAULTS: RegistrarParams = {
  default_expires: 3600,
  min_expires: 60,
  max_expires: 3600,
  use_domain: 0,
  max_contacts: 0,
  method_filtering: 0,
  expires_range: 0,
  default_expires_range: 0,
};

let current: RegistrarParams = REGISTRAR_DEFAULTS;

export function registrarParams(): RegistrarParams {
  return current;
}

export function setRegistrarParams(p: Partial<RegistrarParams> | undefined): void {
  current = { ...REGISTRAR_DEFAULTS, ...p };
}
