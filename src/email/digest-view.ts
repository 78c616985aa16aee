import type { Paper } from '../db/schema.js';
import type { DigestPick } from '../digests/select.js';

export interface PaperCard {
  position: number;
  url: string;
  title: string;
  authorsLine: string;
  upvotes: number;
  /** "5 upvotes": the HTML shows the ▲ to the eye only. */
  upvotesLabel: string;
  summary: string;
  topic?: string;
  matchedLine: string;
  /** `name` is the link's accessible name: ten "PDF" links must tell a screen reader which paper. */
  links: { label: string; url: string; name: string }[];
}

export interface DigestEmailValues {
  subject: string;
  preheader: string;
  dateLabel: string;
  countLabel: string;
  topicsLine: string;
  frequency: string;
  email: string;
  papers: PaperCard[];
  moreCount: number;
  moreLabel: string;
  webUrl: string;
  manageUrl: string;
  unsubscribeUrl: string;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** First three authors, then "et al.". */
export const authorsLine = (authors: readonly string[]) =>
  authors.length <= 3 ? authors.join(', ') : `${authors.slice(0, 3).join(', ')} et al.`;

/** The AI summary when the source has one; else the abstract's first two sentences, at most ~300 characters. */
export function shortSummary(paper: Pick<Paper, 'aiSummary' | 'abstract'>, maxLength = 300): string {
  const text = paper.aiSummary?.trim() || paper.abstract;
  // Split only where a stop is followed by white space: a decimal (13.4) or "i.e.," is no sentence end,
  // and the summary always starts where the text starts.
  const sentences = text.trim().split(/(?<=[.!?])\s+/);
  let summary = sentences.slice(0, 2).join(' ') || text;
  if (summary.length > maxLength) {
    const cut = summary.slice(0, maxLength);
    summary = `${cut.slice(0, Math.max(cut.lastIndexOf(' '), maxLength - 40)).trimEnd()}…`;
  }
  return summary;
}

const isOnDailyPapers = (paper: Paper) => paper.source === 'hf-daily' || paper.upvotes > 0;

export function paperLinks(paper: Paper) {
  const id = paper.arxivId;
  return [
    { label: 'arXiv', url: `https://arxiv.org/abs/${id}` },
    { label: 'PDF', url: `https://arxiv.org/pdf/${id}` },
    ...(isOnDailyPapers(paper)
      ? [{ label: 'Daily papers', url: `https://huggingface.co/papers/${id}` }]
      : []),
    ...(paper.githubRepo ? [{ label: 'Code', url: paper.githubRepo }] : []),
    ...(paper.projectPage ? [{ label: 'Project', url: paper.projectPage }] : []),
  ];
}

/** What each link opens, for its accessible name ("arXiv page: <title>"). */
const linkNames: Record<string, string> = {
  arXiv: 'arXiv page',
  PDF: 'PDF',
  'Daily papers': 'Hugging Face daily papers page',
  Code: 'Code',
  Project: 'Project page',
};

/**
 * The start of a title, enough to tell papers apart in a link's name: a card has up to five links, and
 * thirty full titles five times over would cost a long digest 30 KB of its 102 KB.
 */
function shortTitle(title: string, maxLength = 50): string {
  if (title.length <= maxLength) return title;
  const space = title.lastIndexOf(' ', maxLength);
  return `${title.slice(0, space > maxLength / 2 ? space : maxLength).trimEnd()}…`;
}

type PaperParts = Pick<
  PaperCard,
  'url' | 'title' | 'authorsLine' | 'upvotes' | 'upvotesLabel' | 'summary' | 'links'
>;

/**
 * The parts of a card that depend on the paper alone, kept per paper object: a send run reuses the
 * same candidate papers for every recipient, so summaries and links are worked out once, not per email.
 */
const paperParts = new WeakMap<Paper, PaperParts>();

function partsOf(paper: Paper): PaperParts {
  let parts = paperParts.get(paper);
  if (!parts) {
    parts = {
      url: isOnDailyPapers(paper)
        ? `https://huggingface.co/papers/${paper.arxivId}`
        : `https://arxiv.org/abs/${paper.arxivId}`,
      title: paper.title,
      authorsLine: authorsLine(paper.authors),
      upvotes: paper.upvotes,
      upvotesLabel: plural(paper.upvotes, 'upvote'),
      summary: shortSummary(paper),
      links: paperLinks(paper).map((link) => ({
        ...link,
        name: `${linkNames[link.label] ?? link.label}: ${shortTitle(paper.title)}`,
      })),
    };
    paperParts.set(paper, parts);
  }
  return parts;
}

export function toPaperCard(pick: DigestPick, position: number): PaperCard {
  return {
    ...partsOf(pick.paper),
    position,
    topic: pick.topic,
    matchedLine: pick.matched.filter((term) => term !== pick.topic).join(', '),
  };
}

/** `2026-03-03` → `Tuesday, 3 March 2026`. */
const dateFormat = new Intl.DateTimeFormat('en-GB', {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  timeZone: 'UTC',
});

export function formatLocalDate(localDate: string): string {
  return dateFormat.format(new Date(`${localDate}T12:00:00Z`));
}

/** Everything the digest templates show, from the picks and the subscriber. */
export function digestEmailValues(input: {
  picks: readonly DigestPick[];
  /** How many cards the email shows (the subscriber's maxPapers); the web version shows all. */
  shown: number;
  localDate: string;
  subscriber: { email: string; frequency: string; topics: readonly string[] };
  urls: { web: string; manage: string; unsubscribe: string };
}): DigestEmailValues {
  const { picks, subscriber } = input;
  const cards = picks.slice(0, input.shown).map((pick, i) => toPaperCard(pick, i + 1));
  const moreCount = Math.max(0, picks.length - cards.length);
  const topicsLine = subscriber.topics.join('; ');
  const first = picks[0]?.paper.title ?? '';
  const subject = picks.length === 0 ? 'No new papers' : `${plural(picks.length, 'new paper')}: ${first}`;
  return {
    subject: subject.length > 110 ? `${subject.slice(0, 109).trimEnd()}…` : subject,
    preheader: cards
      .slice(1, 4)
      .map((card) => card.title)
      .join(' · '),
    dateLabel: formatLocalDate(input.localDate),
    countLabel: plural(picks.length, 'new paper'),
    topicsLine,
    frequency: subscriber.frequency,
    email: subscriber.email,
    papers: cards,
    moreCount,
    moreLabel: `${plural(moreCount, 'more paper')}`,
    webUrl: input.urls.web,
    manageUrl: input.urls.manage,
    unsubscribeUrl: input.urls.unsubscribe,
  };
}
