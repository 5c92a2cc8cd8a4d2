/**
 * KSR.nathelper: NAT detection and traversal with Kamailio's names (nat_uac_test,
 * fix_nated_contact, fix_nated_register, set_contact_alias, add_contact_alias, handle_ruri_alias)
 * and keep-alive pings to registered NATed contacts (natping_interval, sipping_bflag; pinger.ts).
 */
import type { ModuleDefinition } from '../../script/module.ts';
import { ANY_ROUTE, REQUEST_ROUTES } from '../../script/module.ts';
import { def, N_NUM, N0 } from '../shared/define.ts';
import {
  addContactAlias,
  fixNatedContact,
  fixNatedRegister,
  handleRuriAlias,
  natUacTest,
  setContactAlias,
} from './nat.ts';
import './params.ts';

const nathelper = {
  name: 'nathelper',
  summary: 'NAT traversal helpers',
  functions: {
    nat_uac_test: def(
      N_NUM('flags'),
      natUacTest,
      ANY_ROUTE,
      'NAT tests by flag bits (1, 2, 4, 8, 16, 32, 64, 128); 1 when any holds.',
    ),
    fix_nated_contact: def(N0, fixNatedContact, ANY_ROUTE, 'Contact host:port := source address.'),
    fix_nated_register: def(
      N0,
      fixNatedRegister,
      REQUEST_ROUTES,
      'Save the source address as the binding received address.',
    ),
    set_contact_alias: def(
      N0,
      setContactAlias,
      ANY_ROUTE,
      'Add ;alias=ip~port~proto of the source to the Contact URI.',
    ),
    add_contact_alias: def(
      '(ip?: string, port?: string | number, proto?: string) => number',
      addContactAlias,
      ANY_ROUTE,
      'Add ;alias to the Contact URI: the source, or the given address.',
    ),
    handle_ruri_alias: def(N0, handleRuriAlias, REQUEST_ROUTES, 'R-URI ;alias → $du, alias removed.'),
  },
} satisfies ModuleDefinition;

export default nathelper;
