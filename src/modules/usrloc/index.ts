/**
 * usrloc: the location table's management commands. It has no KSR functions of its own
 * (KSR.registrar reads and writes the table); see README.md in this folder.
 */
import type { ModuleDefinition } from '../../script/module.ts';
import { USRLOC_COMMANDS } from './commands.ts';
import './stats.ts';

const usrloc = {
  name: 'usrloc',
  summary: 'Location table (bindings of registered users): management commands',
  functions: {},
  commands: USRLOC_COMMANDS,
} satisfies ModuleDefinition;

export default usrloc;
