/** The log layer's public API. */
export {
  ACCEPTED_LEVEL_NAMES,
  LEVEL_NAMES,
  type LevelName,
  type ThresholdLevel,
  toLevelName,
  toThreshold,
} from './levels.ts';
export { createLogger, flushLogger, type Logger, type LoggerOptions, logAt, moduleLogger } from './logger.ts';
