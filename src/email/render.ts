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
  welcome: 'You are subscribed to paperboy',
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

/** Gmail clips messages whose HTML passes 102 KB; keep a margin for headers and encoding. */
export const digestHtmlBudget = 100 * 1024;

/** Fills the digest template for one recipient: no MJML work here, only the escaping fill. */
export function renderDigestEmail(templates: EmailTemplates, values: DigestEmailValues): RenderedEmail {
  return {
    subject: values.subject,
    html: templates.digest.html(values),
    text: templates.digest.text(values),
  };
}

/**
 * Renders with as many cards as fit the HTML budget: a subscriber allowed 50 papers with long
 * abstracts gets fewer cards and a larger "N more in the web version" rather than a clipped email.
 */
export function renderDigestWithinBudget(
  templates: EmailTemplates,
  valuesFor: (shown: number) => DigestEmailValues,
  shown: number,
): RenderedEmail {
  let email = renderDigestEmail(templates, valuesFor(shown));
  while (shown > 1 && Buffer.byteLength(email.html) > digestHtmlBudget) {
    shown = Math.max(1, Math.floor(shown * 0.8));
    email = renderDigestEmail(templates, valuesFor(shown));
  }
  return email;
}
