/** `modules.exec` parameters: Kamailio's setvars / time_to_kill, plus the bounds Junction adds. */
import { registerModuleSchema } from '../../config/modules.ts';
import { flag, type Infer, integer } from '../../config/spec.ts';

export const execSchema = registerModuleSchema(
  'exec',
  {
    setvars: flag({
      doc: 'Set the SIP_* environment variables for executed programs (Kamailio exec setvars).',
      default: 1,
    }),
    time_to_kill: integer({
      doc: 'Kill an executed program (its whole process group: SIGTERM, then SIGKILL) after this many seconds; 0 = never (Kamailio exec time_to_kill).',
      default: 0,
      min: 0,
      unit: 's',
    }),
    bash_safety: flag({
      doc: 'Strip a leading `() {` from header values put in SIP_HF_* (no function definitions for bash; Kamailio exec bash_safety).',
      default: 1,
    }),
    max_children: integer({
      doc: 'Programs running at once; beyond it an exec call returns -1 at once (counted in exec:refused, logged).',
      default: 128,
      min: 1,
    }),
    max_output: integer({
      doc: 'Bytes of a program’s stdout that are read (exec_dset / exec_avp); the rest is discarded and logged.',
      default: 65536,
      min: 1,
      unit: 'bytes',
    }),
    spawner: flag({
      doc: 'Start programs through a small pre-forked spawner process instead of forking the server (same semantics, a fraction of the CPU per program); 0 = Node’s own spawn.',
      default: 1,
    }),
  },
  { doc: 'Running external programs from the routing script (KSR.exec).' },
);

export type ExecParams = Infer<typeof execSchema>;

export const EXEC_DEFAULTS: ExecParams = {
  setvars: 1,
  time_to_kill: 0,
  bash_safety: 1,
  max_children: 128,
  max_output: 65536,
  spawner: 1,
};
