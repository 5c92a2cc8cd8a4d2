/**
 * Every KSR module Junction registers. The script engine builds the per-message KSR object and the
 * generated KSR types from this list; adding a module means adding it here, nothing else.
 */
import type { ModuleDefinition } from '../script/module.ts';
import acc from './acc/index.ts';
import auth from './auth/index.ts';
import auth_db from './auth_db/index.ts';
import core from './core/index.ts';
import corex from './corex/index.ts';
import cp from './cp/index.ts';
import dialog from './dialog/index.ts';
import exec from './exec/index.ts';
import extscript from './extscript/index.ts';
import hdr from './hdr/index.ts';
import kx from './kx/index.ts';
import maxfwd from './maxfwd/index.ts';
import mi from './mi/index.ts';
import nathelper from './nathelper/index.ts';
import pv from './pv/index.ts';
import registrar from './registrar/index.ts';
import rr from './rr/index.ts';
import sanity from './sanity/index.ts';
import siputils from './siputils/index.ts';
import sl from './sl/index.ts';
import tm from './tm/index.ts';
import tmx from './tmx/index.ts';
import uac from './uac/index.ts';
import usrloc from './usrloc/index.ts';
import x from './x/index.ts';

export const MODULES: ModuleDefinition[] = [
  core,
  x,
  kx,
  pv,
  hdr,
  sl,
  tm,
  tmx,
  rr,
  maxfwd,
  sanity,
  siputils,
  corex,
  mi,
  registrar,
  usrloc,
  auth,
  auth_db,
  cp,
  extscript,
  dialog,
  acc,
  uac,
  exec,
  nathelper,
];

export {
  acc,
  auth,
  auth_db,
  core,
  corex,
  cp,
  dialog,
  exec,
  extscript,
  hdr,
  kx,
  maxfwd,
  mi,
  nathelper,
  pv,
  registrar,
  rr,
  sanity,
  siputils,
  sl,
  tm,
  tmx,
  uac,
  usrloc,
  x,
};
