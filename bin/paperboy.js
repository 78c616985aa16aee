#!/usr/bin/env node
// Runs the JavaScript that `npm run build` compiled into dist/ (npm install builds it, through `prepare`).
// While dist/ is missing or older than a file in src/ or templates/email/ (a developer editing the
// sources, a checkout not yet built), it runs the sources through tsx instead: stale code never runs.
import { isBuilt } from './is-built.js';

if (isBuilt()) {
  await import('../dist/main/cli.js');
} else {
  const tsx = await import('tsx/esm/api').catch(() => undefined);
  if (!tsx) {
    console.error(
      'paperboy: dist/ is missing or older than src/, and tsx is not installed: run `npm run build`',
    );
    process.exit(1);
  }
  // Said where someone reads it: a terminal, or a production log (the sources start slower and use
  // more memory). Piped runs (tests, scripts) keep their output to what the command prints.
  if (process.stderr.isTTY || process.env.NODE_ENV === 'production') {
    console.error('paperboy: dist/ is missing or older than src/; running the sources through tsx');
  }
  tsx.register();
  await import('../src/main/cli.ts');
}
