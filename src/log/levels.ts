/**
 * Log level names. Junction logs with pino's six levels; Kamailio's names (the ones routing
 * scripts use with `KSR.log("dbg", ...)` and operators know from `debug=`) are mapped onto them,
 * and so are Kamailio's numeric debug levels, so a ported config or script keeps its meaning.
 */

export type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
/** A level for a logger's threshold: a level name, or 'silent' for no output. */
export type ThresholdLevel = LevelName | 'silent';

export const LEVEL_NAMES: readonly LevelName[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** Kamailio's level names (L_DBG ... L_ALERT) and common spellings → pino levels. */
const ALIASES: Readonly<Record<string, LevelName>> = {
  dbg: 'debug',
  notice: 'info',
  warning: 'warn',
  err: 'error',
  crit: 'fatal',
  alert: 'fatal',
  bug: 'fatal',
};

/**
 * Kamailio's numeric `debug=` levels: 3 L_DBG, 2 L_INFO, 1 L_NOTICE, 0 L_WARN, -1 L_ERR,
 * -2 L_CRIT, -3 L_ALERT (anything above 3 is more debug; below -3 still fatal).
 */
function fromKamailioNumber(n: number): LevelName {
  if (n >= 3) return 'debug';
  if (n >= 1) return 'info';
  if (n === 0) return 'warn';
  if (n === -1) return 'error';
  return 'fatal';
}

/** The pino level for a name or Kamailio level; undefined when it is none of them. */
export function toLevelName(level: string | number): LevelName | undefined {
  if (typeof level === 'number') return Number.isInteger(level) ? fromKamailioNumber(level) : undefined;
  const key = level.trim().toLowerCase();
  if ((LEVEL_NAMES as readonly string[]).includes(key)) return key as LevelName;
  return ALIASES[key];
}

/** Like toLevelName, also accepting 'silent' (a threshold, not a level to log at). */
export function toThreshold(level: string | number): ThresholdLevel | undefined {
  if (typeof level === 'string' && level.trim().toLowerCase() === 'silent') return 'silent';
  return toLevelName(level);
}

/** Every accepted name, for messages and docs. */
export const ACCEPTED_LEVEL_NAMES: readonly string[] = [...LEVEL_NAMES, ...Object.keys(ALIASES), 'silent'];
