/** `modules.nathelper` parameters (Kamailio nathelper names). */
import { registerModuleSchema } from '../../config/modules.ts';
import { type Infer, integer, string } from '../../config/spec.ts';

export const nathelperSchema = registerModuleSchema(
  'nathelper',
  {
    natping_interval: integer({
      doc: 'How often registered NATed contacts are pinged (keep-alive OPTIONS); 0 = no pinging.',
      default: 0,
      min: 0,
      unit: 's',
    }),
    sipping_bflag: integer({
      doc: 'Branch flag (saved with the contact) marking contacts to ping; the default script sets 7 (FLB_NATSIPPING).',
      default: 7,
      min: 0,
      max: 31,
    }),
    sipping_from: string({
      doc: 'From URI of the keep-alive requests.',
      default: 'sip:pinger@junction.invalid',
    }),
    sipping_method: string({ doc: 'Method of the keep-alive requests.', default: 'OPTIONS' }),
    received_avp: string({
      doc: 'AVP fix_nated_register stores the source URI in; the registrar saves it as the received address.',
      default: 'RECEIVED',
    }),
  },
  { doc: 'NAT traversal helpers (Kamailio nathelper): NAT tests, contact aliases, keep-alive pings.' },
);

export type NathelperParams = Infer<typeof nathelperSchema>;

export const NATHELPER_DEFAULTS: NathelperParams = {
  natping_interval: 0,
  sipping_bflag: 7,
  sipping_from: 'sip:pinger@junction.invalid',
  sipping_method: 'OPTIONS',
  received_avp: 'RECEIVED',
};

let current: NathelperParams = NATHELPER_DEFAULTS;

export function nathelperParams(): NathelperParams {
  return current;
}

export function setNathelperParams(p: Partial<NathelperParams> | undefined): void {
  current = { ...NATHELPER_DEFAULTS, ...p };
}
