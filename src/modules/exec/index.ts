/**
 * KSR.exec: Kamailio's exec module (exec_msg, exec_dset, exec_avp, exec_cmd) plus the shell-free
 * `run(argv, opts)`. Every function is awaitable and bounded. See README.md in this folder.
 */
import type { ModuleDefinition } from '../../script/module.ts';
import { def, REQUEST_FAILURE } from '../shared/define.ts';
import { execAvp, execCmd, execDset, execMsg, execRun } from './exec.ts';
import './params.ts';
import './stats.ts';

const RUN_OPTS =
  '{ stdin?: string | true; env?: Record<string, string>; timeout?: number; setvars?: boolean }';
const RUN_RESULT =
  '{ rc: number; code: number | null; signal: string | null; stdout: string; timedOut: boolean; refused: boolean }';

const exec = {
  name: 'exec',
  summary: 'Run external programs (Kamailio exec): asynchronous, killed at time_to_kill, bounded',
  functions: {
    exec_msg: def(
      '(cmd: string) => Promise<number>',
      execMsg,
      REQUEST_FAILURE,
      'Run `cmd` by /bin/sh with the SIP request on stdin, SIP_* in the environment; 1 on exit 0, else -1.',
    ),
    exec_dset: def(
      '(cmd: string) => Promise<number>',
      execDset,
      REQUEST_FAILURE,
      "Run `cmd '<R-URI>'`; output lines become the R-URI and further branches; -1 on failure or no URI.",
    ),
    exec_avp: def(
      '(cmd: string, avplist?: string) => Promise<number>',
      execAvp,
      REQUEST_FAILURE,
      'Run `cmd`; each output line goes to the next AVP of `avplist` ("$avp(a),$avp(b)") or $avp(1), $avp(2) …',
    ),
    exec_cmd: def(
      '(cmd: string) => Promise<number>',
      execCmd,
      undefined,
      'Run `cmd` without SIP_* variables; output ignored; 1 on exit 0, else -1.',
    ),
    run: def(
      `(argv: string[], opts?: ${RUN_OPTS}) => Promise<${RUN_RESULT}>`,
      execRun,
      undefined,
      'Shell-free: run argv[0] with argv[1..] as they are (no shell, no $pv expansion); stdin, extra env, timeout (s).',
    ),
  },
} satisfies ModuleDefinition;

export default exec;
