/**
 * Entry point of the `junction` command (bin/junction, npm start). Logic lives in main.ts; this
 * file only runs it and exits.
 */
import { main } from './main.ts';

const code = await main(process.argv.slice(2));
// Exit explicitly (a stopped server may leave a handle behind), but only once stdout and stderr
// have drained: process.exit() would cut a long error list written to a pipe.
let pending = 2;
const done = (): void => {
  if (--pending === 0) process.exit(code);
};
process.stdout.write('', done);
process.stderr.write('', done);
