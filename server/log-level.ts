// The one rule for CHATTY_LOG_LEVEL (chatty host, the app's main process): a level pino knows;
// unset or empty means the default. Anything else is a clear one-line error, never a stack trace.
import { ErrorCode, fail, ok, type Result } from '../shared/errors.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

export function logLevelFrom(env: NodeJS.ProcessEnv = process.env): Result<LogLevel> {
  const value = env.CHATTY_LOG_LEVEL?.trim().toLowerCase() ?? '';
  if (value === '') return ok(DEFAULT_LOG_LEVEL);
  return (LEVELS as readonly string[]).includes(value)
    ? ok(value as LogLevel)
    : fail(ErrorCode.BAD_INPUT, `CHATTY_LOG_LEVEL must be one of ${LEVELS.join(', ')} (not "${env.CHATTY_LOG_LEVEL!.slice(0, 20)}")`);
}
