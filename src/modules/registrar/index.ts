/**
 * KSR.registrar: save and look up registrations (Kamailio registrar names and return codes).
 * See README.md in this folder.
 */
import type { ModuleDefinition } from '../../script/module.ts';
import { def, REQUEST_FAILURE } from '../shared/define.ts';
import './params.ts';
import { lookup, nextContacts, registered, regSendReply, save, unregister } from './registrar.ts';

const registrar = {
  name: 'registrar',
  summary: 'Registrar: save REGISTER bindings, look up registered contacts',
  functions: {
    save: def(
      '(table: string, flags?: number, uri?: string) => Promise<number>',
      save,
      ['request', 'onreply'],
      'Save the REGISTER bindings and reply (1 inserted, 2 updated, 3 deleted, 4 query; -1 error, replied). Flags: 0x01 memory only, 0x02 no reply, 0x04 one contact per AOR, 0x08 no expires_range, 0x10 prepare the reply for reg_send_reply.',
    ),
    save_uri: def(
      '(table: string, flags: number, uri: string) => Promise<number>',
      save,
      ['request', 'onreply'],
      'save() for the AOR of `uri` instead of the To URI.',
    ),
    lookup: def(
      '(table: string, uri?: string) => Promise<number>',
      (ctx, table?: string, uri?: string) => lookup(ctx, table, uri),
      REQUEST_FAILURE,
      'R-URI → bindings: best q becomes the R-URI, equal q parallel branches (1; -1 not found, -2 method, -3 error).',
    ),
    lookup_uri: def(
      '(table: string, uri: string) => Promise<number>',
      (ctx, table?: string, uri?: string) => lookup(ctx, table, uri),
      REQUEST_FAILURE,
      'lookup() for `uri` instead of the R-URI.',
    ),
    next_contacts: def(
      '() => number',
      nextContacts,
      REQUEST_FAILURE,
      'Failure route: load the next lower-q group of the last lookup (serial forking); -1 when none is left.',
    ),
    registered: def(
      '(table: string, uri?: string) => Promise<number>',
      registered,
      undefined,
      '1 when the AOR of the R-URI (or `uri`) has a binding, else -1.',
    ),
    registered_uri: def(
      '(table: string, uri: string) => Promise<number>',
      registered,
      undefined,
      'registered() for `uri`.',
    ),
    reg_send_reply: def(
      '() => Promise<number>',
      regSendReply,
      REQUEST_FAILURE,
      'Send the reply save(table, 0x02) held back (its 200, or its error); -1 when there is none.',
    ),
    unregister: def(
      '(table: string, uri: string) => Promise<number>',
      unregister,
      undefined,
      'Remove every binding of the AOR of `uri`.',
    ),
  },
} satisfies ModuleDefinition;

export default registrar;
