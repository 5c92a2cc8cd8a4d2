/** `modules.dialog` parameters (Kamailio dialog module names where they exist). */
import { registerModuleSchema } from '../../config/modules.ts';
import { flag, type Infer, integer, string } from '../../config/spec.ts';

export const dialogSchema = registerModuleSchema(
  'dialog',
  {
    default_timeout: integer({
      doc: 'Maximum lifetime of a dialog (Kamailio default_timeout); an answered call that outlives it is ended (see timeout_bye).',
      default: 43200,
      min: 1,
      unit: 's',
    }),
    track_all: flag({
      doc: 'Track every initial INVITE, as if the script called KSR.dialog.dlg_manage() for each (Kamailio: dlg_flag set on every INVITE).',
      default: 0,
    }),
    timeout_bye: flag({
      doc: 'When an answered call reaches its lifetime, send BYE to both sides (Kamailio $dlg_ctx(timeout_bye)).',
      default: 1,
    }),
    max_dialogs: integer({
      doc: 'Most dialogs tracked at once; beyond, dlg_manage() returns -1 and the call goes untracked (dialog:rejected_dialogs).',
      default: 100000,
      min: 1,
    }),
    profiles_with_value: string({
      doc: 'Profiles declared up front, with values, separated by ";" (Kamailio). Profiles used by the script without declaration are created on first use.',
      default: '',
    }),
    profiles_no_value: string({
      doc: 'Profiles declared up front, without value, separated by ";".',
      default: '',
    }),
  },
  { doc: 'Dialog tracking (KSR.dialog): call state, lifetime, profiles, dialog variables.' },
);

export type DialogParams = Infer<typeof dialogSchema>;

export const DIALOG_DEFAULTS: DialogParams = {
  default_timeout: 43200,
  track_all: 0,
  timeout_bye: 1,
  max_dialogs: 100000,
  profiles_with_value: '',
  profiles_no_value: '',
};
