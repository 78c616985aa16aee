import type { DigestEmailValues } from './digest-view.js';
import { encodedBodyBytes } from './mailer.js';
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

/**
 * Gmail clips an HTML part that passes 102 KB as sent, i.e. quoted-printable (~8 % more than the HTML),
 * and the clipped end is the footer with the unsubscribe link: the budget is for the encoded part.
 */
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
 * Renders with as many cards as fit the budget once encoded: a subscriber allowed 50 papers with long
 * abstracts gets fewer cards and a larger "N more in the web version" rather than a clipped email.
 */
export function renderDigestWithinBudget(
  templates: EmailTemplates,
  valuesFor: (shown: number) => DigestEmailValues,
  shown: number,
): RenderedEmail {
  let email = renderDigestEmail(templates, valuesFor(shown));
  let bytes = encodedBodyBytes(email.html);
  while (shown > 1 && bytes > digestHtmlBudget) {
    // Cards in proportion to the budget: the fixed part of the email makes this a slight underestimate,
    // so it fits in one or two renders without dropping many more cards than it must.
    shown = Math.max(1, Math.min(shown - 1, Math.floor((shown * digestHtmlBudget) / bytes)));
    email = renderDigestEmail(templates, valuesFor(shown));
    bytes = encodedBodyBytes(email.html);
  }
  return email;
}
