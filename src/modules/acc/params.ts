/** `modules.acc` parameters: where call records go. */
import { registerModuleSchema } from '../../config/modules.ts';
import { flag, type Infer, integer, string } from '../../config/spec.ts';

export const accSchema = registerModuleSchema(
  'acc',
  {
    enabled: flag({
      doc: 'Write a call record when a tracked dialog ends (attempts and completed calls); 0 keeps only acc_db_request records.',
      default: 1,
    }),
    json_file: string({
      doc: 'Also append every record to this file as one JSON line ("" = no file). Relative to the config file.',
      default: '',
    }),
    memory_records: integer({
      doc: 'With memory or redis storage, records are kept in memory: the newest this many.',
      default: 10000,
      min: 1,
    }),
  },
  { doc: 'Call records (CDRs): stored in the `acc` table of the SQLite storage; cdr_list, `junction cdr`.' },
);

export type AccParams = Infer<typeof accSchema>;
