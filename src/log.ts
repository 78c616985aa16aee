import { type Logger, pino } from 'pino';

export type { Logger };

/** JSON lines for machines; readable lines when a person watches a terminal. */
export function createLogger(level: string): Logger {
  const isTerminal = process.stdout.isTTY === true;
  return pino({
    level,
    base: { pid: process.pid },
    ...(isTerminal
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss' } } }
      : {}),
  });
}
