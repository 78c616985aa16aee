import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPrecompiledTemplates } from '../../src/email/load-templates.js';
import {
  compileEmailTemplates,
  type EmailTemplates,
  emailTemplateNames,
  precompileEmailTemplates,
} from '../../src/email/templates.js';
import { renderEveryEmail } from '../support/emails.js';

// The built service renders from what `npm run build` precompiled; tests and the sources compile the
// MJML at start. Both must give every reader the same bytes.
describe('email templates precompiled at build time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-precompiled-'));
  let compiled: EmailTemplates;
  let precompiled: EmailTemplates;

  beforeAll(async () => {
    // As the build writes it: one module, loaded back through the Handlebars runtime alone.
    const file = join(dir, 'precompiled-templates.js');
    writeFileSync(file, await precompileEmailTemplates());
    precompiled = await loadPrecompiledTemplates(pathToFileURL(file));
    compiled = await compileEmailTemplates();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds every template, each with its HTML and text part', () => {
    expect(Object.keys(precompiled).sort()).toEqual([...emailTemplateNames].sort());
  });

  it('renders exactly the HTML and text that compiling the MJML does, for every kind of email', () => {
    const fromMjml = renderEveryEmail(compiled);
    const fromBuild = renderEveryEmail(precompiled);
    expect(fromBuild.map((email) => email.kind)).toEqual(fromMjml.map((email) => email.kind));
    for (const [i, email] of fromBuild.entries()) {
      const expected = fromMjml[i];
      expect(email.html === expected?.html, `${email.kind}: HTML`).toBe(true);
      expect(email.text === expected?.text, `${email.kind}: text`).toBe(true);
    }
  });

  it('escapes values in the HTML part and leaves the text part as written, as compiling does', () => {
    const values = {
      email: 'a&b@example.org',
      topicsLine: '"x" <y> & z',
      scheduleLine: 'daily',
      manageUrl: '',
    };
    for (const name of ['confirmation', 'manage', 'welcome'] as const) {
      expect(precompiled[name].html(values)).toBe(compiled[name].html(values));
      expect(precompiled[name].text(values)).toBe(compiled[name].text(values));
    }
    expect(precompiled.manage.html(values)).toContain('a&amp;b@example.org');
    expect(precompiled.manage.text(values)).toContain('a&b@example.org');
  });
});
