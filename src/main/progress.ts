import { SingleBar } from 'cli-progress';
import type { Logger } from '../log.js';

export interface ProgressReporter {
  update(done: number, total: number): void;
  stop(): void;
}

/** A progress bar when a person watches a terminal; a log line now and then otherwise. */
export function createProgress(label: string, log: Logger): ProgressReporter {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total}`,
      stream: process.stderr,
      hideCursor: true,
    });
    let isStarted = false;
    return {
      update(done, total) {
        if (!isStarted) {
          bar.start(total, done);
          isStarted = true;
        }
        bar.setTotal(total);
        bar.update(done);
      },
      stop: () => isStarted && bar.stop(),
    };
  }
  let lastLogged = 0;
  return {
    update(done, total) {
      if (done === total || Date.now() - lastLogged > 5000) {
        lastLogged = Date.now();
        log.info({ done, total }, label);
      }
    },
    stop() {},
  };
}
