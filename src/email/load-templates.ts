import { existsSync } from 'node:fs';
import type HandlebarsApi from 'handlebars';
import runtime from 'handlebars/runtime.js';
import type { EmailTemplateName, EmailTemplates } from './templates.js';

// Handlebars without its compiler. Its runtime.d.ts declares nothing, so it takes the full API's type.
const Handlebars = runtime as unknown as Pick<typeof HandlebarsApi, 'template'>;

type TemplateSpec = Parameters<typeof Handlebars.template>[0];
type PrecompiledTemplates = Record<EmailTemplateName, { html: TemplateSpec; text: TemplateSpec }>;

/** `npm run build` writes it beside this file's compiled twin: dist/email/precompiled-templates.js. */
const precompiledUrl = new URL('./precompiled-templates.js', import.meta.url);

/** The specs `precompileEmailTemplates` wrote, made into functions by the Handlebars runtime alone. */
export async function loadPrecompiledTemplates(url: URL): Promise<EmailTemplates> {
  const { default: specs } = (await import(url.href)) as { default: PrecompiledTemplates };
  return Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      { html: Handlebars.template(spec.html), text: Handlebars.template(spec.text) },
    ]),
  ) as EmailTemplates;
}

/**
 * The email templates, ready to fill. Built, the service loads what the build precompiled, so it never
 * imports MJML or the Handlebars compiler (~100 MB and a second of start-up). The sources, run
 * through tsx, have no precompiled file beside them and compile the MJML here, as the tests do.
 */
export async function loadEmailTemplates(): Promise<EmailTemplates> {
  if (existsSync(precompiledUrl)) return loadPrecompiledTemplates(precompiledUrl);
  const { compileEmailTemplates } = await import('./templates.js');
  return compileEmailTemplates();
}
