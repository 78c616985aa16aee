import type { EmailTemplateName, EmailTemplates } from './templates.js';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

const subjects: Record<EmailTemplateName, string> = {
  confirmation: 'Confirm your paperboy subscription',
  manage: 'Your paperboy subscription',
};

const footerNote =
  'You get this email because this address was entered at paperboy. paperboy never shares your address.';

/** Fills a compiled template; Handlebars escapes every value in the HTML part. */
export function renderEmail(
  templates: EmailTemplates,
  name: EmailTemplateName,
  values: Record<string, string>,
): RenderedEmail {
  const data = { footerNote, subject: subjects[name], preheader: subjects[name], ...values };
  return { subject: subjects[name], html: templates[name].html(data), text: templates[name].text(data) };
}
