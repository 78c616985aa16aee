/**
 * `npm run build`, which `npm install` and `npm ci` also run (the `prepare` script): TypeScript → dist/,
 * the email templates' MJML → precompiled Handlebars in dist/email/, and last dist/.build-stamp.
 * bin/paperboy.js runs dist/ only while that stamp is newer than every file in src/ and templates/email/.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { precompileEmailTemplates } from '../src/email/templates.js';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

// From scratch: a file left from a deleted source must not linger in what production runs.
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

writeFileSync(join(dist, 'email/precompiled-templates.js'), await precompileEmailTemplates());
writeFileSync(join(dist, '.build-stamp'), `${new Date().toISOString()}\n`);
console.log('paperboy: built dist/');
