/** `modules.uac` parameters: digest credentials for requests the server sends (Kamailio uac `credential`). */
import { registerModuleSchema } from '../../config/modules.ts';
import { array, type Infer, object, string } from '../../config/spec.ts';

export const uacSchema = registerModuleSchema(
  'uac',
  {
    credentials: array(
      object(
        {
          realm: string({ doc: 'Realm of the challenge this answers ("*" = any realm).', nonEmpty: true }),
          username: string({ doc: 'Digest username.', nonEmpty: true }),
          password: string({ doc: 'Digest password.' }),
        },
        { doc: 'One credential (Kamailio: "username:realm:password").' },
      ),
      {
        doc: 'Credentials used when a request sent by the server (t_uac_dlg, KSR.uac.uac_req_send, click-to-dial) is challenged with 401/407.',
        default: [],
      },
    ),
  },
  { doc: 'Requests sent by the server: t_uac_dlg, KSR.uac.uac_req_send, click-to-dial (ctd).' },
);

export type UacParams = Infer<typeof uacSchema>;
