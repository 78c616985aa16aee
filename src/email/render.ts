import type { DigestEmailValues } from './digest-view.js';
import type { EmailTemplates } from './templates.js';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

const lifecycleSubjects = {
  confirmation: 'Confirm your paperboy subscription',
  manage: 'Your paperboy subscription',
};

const footerNote =
  'You get this email because this address was entered at paperboy. paperboy never shares your address.';

/** Fills a compiled lifecycle template; Handlebars escapes every value in the HTML part. */
export function renderLifecycleEmail(
  templates: EmailTemplates,
  name: keyof typeof lifecycleSubjects,
  values: Record<string, string>,
): RenderedEmail {
  const subject = lifecycleSubjects[name];
  const data = { footerNote, subject, preheader: subject, ...values };
  return { subject, html: templates[name].html(data), text: templates[name].text(data) };
}

/** Fills the digest template for one recipient: no MJML work here, only the escaping fill. */
export function renderDigestEmail(templates: EmailTemplates, values: DigestEmailValues): RenderedEmail {
  return {
    subject: values.subject,
    html: templates.digest.html(values),
    text: templates.digest.text(values),
  };
}
