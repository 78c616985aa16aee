import type { DigestEmailValues, PaperCard, PaperParts } from './digest-view.js';
import { quotedPrintable } from './mime.js';
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

const topicsOf = (values: Record<string, string | undefined>) =>
  values.topicsLine ? `on ${values.topicsLine}` : 'on the most upvoted new papers';

/**
 * The inbox shows the preheader after the subject: it says what the subject does not (the schedule and
 * topics, what to do), never the subject again.
 */
const lifecyclePreheaders: Record<
  keyof typeof lifecycleSubjects,
  (values: Record<string, string | undefined>) => string
> = {
  confirmation: (values) =>
    `One click to start: ${values.scheduleLine}, ${topicsOf(values)}. The link works for 7 days.`,
  manage: (values) =>
    `${values.email} is already subscribed: your link to change topics or schedule, or to unsubscribe.`,
  welcome: (values) => `Your digest comes ${values.scheduleLine}, ${topicsOf(values)}.`,
};

/** Fills a compiled lifecycle template; Handlebars escapes every value in the HTML part. */
export function renderLifecycleEmail(
  templates: EmailTemplates,
  name: keyof typeof lifecycleSubjects,
  values: Record<string, string>,
): RenderedEmail {
  const subject = lifecycleSubjects[name];
  const data = { footerNote, subject, preheader: lifecyclePreheaders[name](values), ...values };
  return { subject, html: templates[name].html(data), text: wrapText(templates[name].text(data)) };
}

/**
 * Gmail clips an HTML part that passes 102 KB as sent, i.e. quoted-printable (~8 % more than the HTML),
 * and the clipped end is the footer with the unsubscribe link: the budget is for the encoded part.
 */
export const digestHtmlBudget = 100 * 1024;

/** Plain text is read in terminals and quoted in replies: 72 columns leave room for "> ". */
export const textWidth = 72;
/** Code points, not UTF-16 units: what a terminal counts (near enough; wide characters aside). */
const columns = (text: string) => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

function wrapLine(line: string, width: number): string {
  // UTF-16 length is never below the column count: most lines are decided without counting.
  if (line.length <= width || columns(line) <= width) return line;
  const indent = /^ */.exec(line)?.[0] ?? '';
  // A paper's "12. Title" continues at the three spaces of the rest of its card.
  const continuation = /^\d+\. /.test(line) ? '   ' : indent;
  const lines: string[] = [];
  let prefix = indent;
  let rest = line.slice(indent.length);
  // Breaks are found by UTF-16 index, which can only break a line with astral characters early.
  while (prefix.length + rest.length > width) {
    const room = width - prefix.length;
    let cut = rest.lastIndexOf(' ', room);
    // A word longer than the room (a URL) stays whole on its own line.
    if (cut <= 0) cut = rest.indexOf(' ', room);
    if (cut <= 0) break;
    lines.push(prefix + rest.slice(0, cut));
    rest = rest.slice(cut + 1);
    prefix = continuation;
  }
  lines.push(prefix + rest);
  return lines.join('\n');
}

/**
 * Wraps every line at `width` columns between words, never inside one: a URL longer than the line
 * stays whole on a line of its own. Lines that fit (the "-- " signature separator too) are untouched,
 * and a text whose lines all fit comes back as it is, without being cut up and joined again.
 */
export function wrapText(text: string, width = textWidth): string {
  let wrapped = '';
  /** Where the text not yet copied to `wrapped` starts. */
  let copiedTo = 0;
  for (let start = 0; start <= text.length; ) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    if (end - start > width) {
      const line = text.slice(start, end);
      const lines = wrapLine(line, width);
      if (lines !== line) {
        wrapped += text.slice(copiedTo, start) + lines;
        copiedTo = end;
      }
    }
    start = end + 1;
  }
  return copiedTo === 0 ? text : wrapped + text.slice(copiedTo);
}

/**
 * Filled cards, per paper (its `PaperParts`, one object per paper object) and then per what else the
 * card shows. A send run shows the same candidate papers to every recipient, with the same few reasons
 * (readers share topics): a card is filled once, not once per email. The few entries a paper can have
 * are bounded anyway, in case of a reader with a thousand distinct reasons.
 */
const filledCards = new WeakMap<PaperParts, Map<string, { html: string; text: string }>>();
const maxFilledPerPaper = 64;
/**
 * A card's feedback links are the reader's own: the card is filled once with these stand-ins (which
 * Handlebars leaves as they are, and no paper's text can hold), and each email puts its links in.
 */
const feedbackStandIns = { more: '\u0002more\u0002', less: '\u0002less\u0002' };

/**
 * One card's HTML and text. The text's first line numbers the card: it is filled and wrapped with a
 * number of the same width (wrapping counts columns only) and kept without it, so one filling serves
 * every position of that width.
 */
function fillCard(templates: EmailTemplates, card: PaperCard): { html: string; text: string } {
  const width = String(card.position).length;
  const key = `${width}\0${card.titleTag}\0${card.topic === undefined ? '\u0001' : card.topic}\0${card.matchedLine}\0${card.rankedLine ?? ''}\0${card.feedback ? 'f' : ''}`;
  let byReason = filledCards.get(card.paper);
  let filled = byReason?.get(key);
  if (!filled) {
    const stand = '0'.repeat(width);
    const values = { ...card, feedback: card.feedback && feedbackStandIns };
    const text = wrapText(templates.digestCard.text({ ...values, position: stand }));
    if (!text.startsWith(stand)) throw new Error('digest-card.txt must start with the card number');
    filled = { html: templates.digestCard.html(values), text: text.slice(width) };
    if (!byReason || byReason.size >= maxFilledPerPaper) {
      byReason = new Map();
      filledCards.set(card.paper, byReason);
    }
    byReason.set(key, filled);
  }
  const { feedback } = card;
  if (!feedback) return { html: filled.html, text: `${card.position}${filled.text}` };
  // This reader's links in place of the stand-ins. Their characters need no escaping (a URL of the
  // service and a token of [A-Za-z0-9._-]), which `feedbackLinks` guarantees.
  const withLinks = (filledText: string) =>
    filledText
      .replace(feedbackStandIns.more, () => feedback.more)
      .replace(feedbackStandIns.less, () => feedback.less);
  return { html: withLinks(filled.html), text: `${card.position}${withLinks(filled.text)}` };
}

/**
 * Fills the digest template for one recipient: no MJML work here, only the escaping fill. Each
 * section's cards come filled and joined, each after a line break, as `cards.html` and `cards.text`.
 */
export function renderDigestEmail(templates: EmailTemplates, values: DigestEmailValues): RenderedEmail {
  const filled = {
    ...values,
    sections: values.sections.map((section) => {
      let html = '';
      let text = '';
      for (const card of section.papers) {
        const filledCard = fillCard(templates, card);
        html += `\n${filledCard.html}`;
        text += `\n${filledCard.text}`;
      }
      return { ...section, cards: { html, text } };
    }),
  };
  return {
    subject: values.subject,
    html: templates.digest.html(filled),
    text: wrapText(templates.digest.text(filled)),
  };
}

/**
 * Renders with as many cards as fit the budget once encoded: a subscriber allowed 50 papers with long
 * abstracts gets fewer cards and a larger "N more in the web version" rather than a clipped email.
 * The HTML comes back encoded too, as the message will carry it.
 */
export function renderDigestWithinBudget(
  templates: EmailTemplates,
  valuesFor: (shown: number) => DigestEmailValues,
  shown: number,
): RenderedEmail & { encodedHtml: Buffer } {
  let email = renderDigestEmail(templates, valuesFor(shown));
  let encodedHtml = quotedPrintable(email.html);
  while (shown > 1 && encodedHtml.length > digestHtmlBudget) {
    // Cards in proportion to the budget: the fixed part of the email makes this a slight underestimate,
    // so it fits in one or two renders without dropping many more cards than it must.
    shown = Math.max(1, Math.min(shown - 1, Math.floor((shown * digestHtmlBudget) / encodedHtml.length)));
    email = renderDigestEmail(templates, valuesFor(shown));
    encodedHtml = quotedPrintable(email.html);
  }
  return { ...email, encodedHtml };
}
