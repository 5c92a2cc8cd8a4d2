/**
 * Building the shell command line of exec_msg / exec_dset / exec_avp / exec_cmd from the format
 * the operator wrote. Pseudo-variables are expanded as in Kamailio, but — unlike Kamailio, which
 * pastes the raw value into the command — every value is inserted as ONE shell word that the
 * shell never interprets: single-quoted, with the quoting adapted to where the `$pv` stands:
 *
 * - outside quotes: `/tmp/$rU.txt` → `/tmp/'alice'.txt`
 * - inside single quotes (the seed's advice, `'$ct'`): `'` in the value becomes `'\''`
 * - inside double quotes: the double quotes are closed around the single-quoted value
 *   (`"from $fn"` → `"from "'Alice'""`), since `$`, backticks and `\` stay live inside "...".
 *
 * So `$(touch /tmp/x)` or backticks in a From display name stay text. What the operator wrote
 * (pipes, redirections, `$$VAR` / `$SIP_HF_*` shell variables) keeps its meaning.
 */
import type { RouteContext } from '../../proxy/context.ts';
import { parseFormat, pvText } from '../pv/format.ts';

type QuoteState = 0 /* none */ | 1 /* '...' */ | 2 /* "..." */;

/** The quoting state after the shell reads `text`, starting in `state`. */
function scan(text: string, state: QuoteState): QuoteState {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (state === 1) {
      if (c === 0x27) state = 0;
    } else if (c === 0x5c /* \ */) {
      i++;
    } else if (state === 2) {
      if (c === 0x22) state = 0;
    } else if (c === 0x27) state = 1;
    else if (c === 0x22) state = 2;
  }
  return state;
}

/** `value` with NULs dropped (they cannot reach argv) and `'` written as `'\''`. */
function escapeSingle(value: string): string {
  let v = value;
  if (v.includes('\0')) v = v.replaceAll('\0', '');
  return v.includes("'") ? v.replaceAll("'", "'\\''") : v;
}

/** One shell word holding exactly `value`. */
export function shellQuote(value: string): string {
  return `'${escapeSingle(value)}'`;
}

function quoteIn(state: QuoteState, value: string): string {
  const v = escapeSingle(value);
  if (state === 1) return v;
  if (state === 2) return `"'${v}'"`;
  return `'${v}'`;
}

/** The command line: the format with each pseudo-variable's value quoted for where it stands. */
export function buildCommand(ctx: RouteContext, format: string): string {
  let out = '';
  let state: QuoteState = 0;
  for (const p of parseFormat(format)) {
    if (typeof p === 'string') {
      out += p;
      state = scan(p, state);
    } else out += quoteIn(state, pvText(p.get(ctx)));
  }
  return out;
}
