import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';

export const templatesDir = join(dirname(fileURLToPath(import.meta.url)), '../../templates/email');

export const emailTemplateNames = ['confirmation', 'manage', 'welcome', 'digest', 'digestCard'] as const;
export type EmailTemplateName = (typeof emailTemplateNames)[number];

export interface CompiledTemplate {
  html: Handlebars.TemplateDelegate;
  text: Handlebars.TemplateDelegate;
}
export type EmailTemplates = Record<EmailTemplateName, CompiledTemplate>;

/** One template as Handlebars source: MJML's HTML output and the plain-text twin. */
export interface TemplateSource {
  html: string;
  text: string;
}

/**
 * How each part is compiled, at start or ahead of time. Only the built-in helpers: Handlebars then skips
 * its helper-lookup paths (a third of the fill time). Missing values are caught by the rendering tests
 * rather than by `strict`, which costs more.
 */
export const htmlCompileOptions = { knownHelpersOnly: true } as const;
export const textCompileOptions = { knownHelpersOnly: true, noEscape: true } as const;

/**
 * Drops MJML's indentation: a run of white space that holds a line break becomes one line break, which
 * renders the same (white space collapses) everywhere but in `<pre>` and `<textarea>`, left as they are.
 * That takes ~2.5 KB (a fifth) off every email. Not MJML's `minify`: it runs htmlnano over our Handlebars
 * source and wants cssnano, which paperboy does not install.
 */
export const stripIndentation = (html: string) =>
  html
    .split(/(<(pre|textarea)\b[\s\S]*?<\/\2>)/i)
    .map((part, i) => (i % 3 === 0 ? part.replace(/[ \t\r]*\n[ \t\r\n]*/g, '\n') : i % 3 === 1 ? part : ''))
    .join('');

/** A file's text without the line break that ends the file: the template's output has none there. */
const readTemplateFile = (path: string) => readFileSync(path, 'utf8').replace(/\n$/, '');

/**
 * One paper's card in a digest, HTML and text: filled once per paper and reason, then reused by every
 * digest that shows it (render.ts). Plain HTML, not MJML: it goes inside the digest's `mj-text`, which
 * MJML passes through as it is.
 */
function readCardSource(): TemplateSource {
  return {
    html: stripIndentation(readTemplateFile(join(templatesDir, 'partials/digest-card.hbs'))),
    text: readTemplateFile(join(templatesDir, 'partials/digest-card.txt')),
  };
}

/** MJML → the HTML Handlebars source of one template, and its text twin as written. */
export async function readTemplateSource(name: string): Promise<TemplateSource> {
  if (name === 'digestCard') return readCardSource();
  const mjmlPath = join(templatesDir, `${name}.mjml`);
  const result = await mjml2html(readFileSync(mjmlPath, 'utf8'), {
    filePath: mjmlPath,
    // MJML 5 skips every mj-include unless told otherwise (silently: no error, no head, no partials).
    ignoreIncludes: false,
    validationLevel: 'strict',
    // Our notes in the templates are for us, not for every inbox (Word's <!--[if mso]> stays: mj-raw).
    keepComments: false,
    fonts: {},
  });
  if (result.errors.length > 0) {
    throw new Error(`${name}.mjml: ${result.errors.map((error) => error.formattedMessage).join('; ')}`);
  }
  return {
    html: stripIndentation(result.html),
    text: readFileSync(join(templatesDir, `${name}.txt`), 'utf8'),
  };
}

/**
 * MJML → HTML → Handlebars in this process: the tests, the benchmarks and the sources run through tsx.
 * The built service loads the same templates precompiled instead (load-templates.ts), without MJML.
 */
export async function compileTemplate(name: string): Promise<CompiledTemplate> {
  const source = await readTemplateSource(name);
  return {
    html: Handlebars.compile(source.html, htmlCompileOptions),
    text: Handlebars.compile(source.text, textCompileOptions),
  };
}

export async function compileEmailTemplates(): Promise<EmailTemplates> {
  const compiled = await Promise.all(emailTemplateNames.map(compileTemplate));
  return Object.fromEntries(emailTemplateNames.map((name, i) => [name, compiled[i]])) as EmailTemplates;
}

/**
 * The build's step for the templates: one ES module holding, per template, the Handlebars specs of its
 * HTML and text parts (`Handlebars.precompile`, the same options as `compileTemplate`), for
 * load-templates.ts to turn into functions with the Handlebars runtime alone.
 */
export async function precompileEmailTemplates(): Promise<string> {
  const entries = await Promise.all(
    emailTemplateNames.map(async (name) => {
      const source = await readTemplateSource(name);
      // Typed as a spec object, but without `asObject` it is the spec's JavaScript source text.
      const html = String(Handlebars.precompile(source.html, htmlCompileOptions));
      const text = String(Handlebars.precompile(source.text, textCompileOptions));
      return `  ${JSON.stringify(name)}: {\n    html: ${html},\n    text: ${text},\n  },\n`;
    }),
  );
  return `// Generated from templates/email/ by \`npm run build\`: do not edit.\nexport default {\n${entries.join('')}};\n`;
}
