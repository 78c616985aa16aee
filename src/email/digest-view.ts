import type { Paper } from '../db/schema.js';
import { type DigestPick, digestPickLimit, likedTopicLabel } from '../digests/select.js';
import { shortened } from '../text.js';

/** What a card shows of its paper, whoever gets it: worked out once per paper (see `partsOf`). */
export interface PaperParts {
  url: string;
  title: string;
  /** The title's start, cut at a word: names links apart for screen readers without repeating it all. */
  shortTitle: string;
  authorsLine: string;
  upvotes: number;
  /** "5 upvotes": the HTML shows the ▲ to the eye only. */
  upvotesLabel: string;
  summary: string;
  /** `name` is the link's accessible name: ten "PDF" links must tell a screen reader which paper. */
  links: { label: string; url: string; name: string }[];
}

export interface PaperCard {
  position: number;
  /** `h2`, or `h3` under a topic's section heading. */
  titleTag: 'h2' | 'h3';
  /** The same object for every card of the same paper object: render.ts keys its filled cards on it. */
  paper: PaperParts;
  topic?: string;
  matchedLine: string;
  /** Why the reader's feedback moved this paper: "Ranked higher: similar to …". */
  rankedLine?: string;
  /** This reader's "more / less like this" links for the paper (the email only). */
  feedback?: FeedbackUrls;
}

export interface FeedbackUrls {
  more: string;
  less: string;
}

/** The cards under one topic; `heading` is unset when the digest is one ranked list. */
export interface DigestSection {
  id: string;
  heading?: string;
  countLabel: string;
  papers: PaperCard[];
}

export interface DigestEmailValues {
  subject: string;
  preheader: string;
  dateLabel: string;
  countLabel: string;
  topicsLine: string;
  /** Set for a reader without topics: the digest lists the most upvoted new papers. */
  isTopicless: boolean;
  frequency: string;
  email: string;
  papers: PaperCard[];
  sections: DigestSection[];
  /** The sections as a one-line table of contents, when there is more than one. */
  contents: { id: string; label: string; count: number }[];
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
      shortTitle: shortened(paper.title, 50),
      authorsLine: authorsLine(paper.authors),
      upvotes: paper.upvotes,
      upvotesLabel: plural(paper.upvotes, 'upvote'),
      summary: shortSummary(paper),
      links: paperLinks(paper).map((link) => ({
        ...link,
        name: `${linkNames[link.label] ?? link.label}: ${shortened(paper.title, 50)}`,
      })),
    };
    paperParts.set(paper, parts);
  }
  return parts;
}

/** "Ranked higher: similar to “…”, which you liked": the feedback that moved a paper, in a line. */
function rankedLineOf(because: DigestPick['because']): string | undefined {
  if (!because) return undefined;
  const title = shortened(because.title, 60);
  return because.kind === 'more'
    ? `Ranked higher: similar to “${title}”, which you wanted more of`
    : `Ranked lower: similar to “${title}”, which you wanted less of`;
}

/** The terms that hit, the first three of many: a paper like ten liked papers names three. */
function matchedLineOf(terms: readonly string[]): string {
  if (terms.length <= 4) return terms.join(', ');
  return `${terms.slice(0, 3).join(', ')} and ${terms.length - 3} more`;
}

export function toPaperCard(pick: DigestPick, position: number, titleTag: 'h2' | 'h3' = 'h2'): PaperCard {
  return {
    paper: partsOf(pick.paper),
    position,
    titleTag,
    topic: pick.topic,
    matchedLine: matchedLineOf(pick.matched.filter((term) => term !== pick.topic)),
    // A paper like the reader's liked ones is there for that reason, which its matched line gives.
    rankedLine:
      pick.topic === likedTopicLabel && pick.because?.kind === 'more'
        ? undefined
        : rankedLineOf(pick.because),
  };
}

/**
 * The shown picks grouped by the topic that ranked each best, topics in the reader's order, numbered
 * in reading order. One topic with matches, or a reader without topics: one ranked list, no headings.
 * `feedbackOf` gives a card its feedback links from the pick's place in the digest's picks.
 */
function sectionsOf(
  picks: readonly DigestPick[],
  topics: readonly string[],
  feedbackOf?: (pickIndex: number) => FeedbackUrls,
): DigestSection[] {
  const cardOf = (pick: DigestPick, pickIndex: number, position: number, titleTag: 'h2' | 'h3') => {
    const card = toPaperCard(pick, position, titleTag);
    if (feedbackOf) card.feedback = feedbackOf(pickIndex);
    return card;
  };
  const byTopic = new Map<string, number[]>();
  picks.forEach((pick, i) => {
    const list = byTopic.get(pick.topic ?? '') ?? [];
    list.push(i);
    byTopic.set(pick.topic ?? '', list);
  });
  if (byTopic.size <= 1 || byTopic.has('')) {
    const papers = picks.map((pick, i) => cardOf(pick, i, i + 1, 'h2'));
    return [{ id: 'papers', countLabel: plural(papers.length, 'paper'), papers }];
  }
  const order = [
    ...topics.filter((topic) => byTopic.has(topic)),
    ...[...byTopic.keys()].filter((topic) => !topics.includes(topic)),
  ];
  let position = 0;
  return order.map((topic, i) => {
    const papers = (byTopic.get(topic) ?? []).map((pickIndex) => ({
      ...cardOf(picks[pickIndex] as DigestPick, pickIndex, ++position, 'h3'),
      topic: undefined,
    }));
    return { id: `topic-${i + 1}`, heading: topic, countLabel: plural(papers.length, 'paper'), papers };
  });
}

/** "diffusion models", "diffusion models and agents", "diffusion models, agents and 2 more topics". */
function topicsPhrase(topics: readonly string[]): string {
  if (topics.length <= 2) return topics.join(' and ');
  if (topics.length === 3) return `${topics[0]}, ${topics[1]} and ${topics[2]}`;
  return `${topics[0]}, ${topics[1]} and ${topics.length - 2} more topics`;
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

const dayMs = 86_400_000;
const shortDateFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', timeZone: 'UTC' });

/** A weekly digest covers the seven days up to its date: `24–30 November 2026`. */
function dateLabelOf(frequency: string, localDate: string): string {
  if (frequency !== 'weekly') return formatLocalDate(localDate);
  const end = new Date(`${localDate}T12:00:00Z`);
  const start = new Date(end.getTime() - 6 * dayMs);
  const endLabel = dateFormat.format(end).replace(/^\w+, /, '');
  const sameMonth = start.getUTCMonth() === end.getUTCMonth();
  return sameMonth ? `${start.getUTCDate()}–${endLabel}` : `${shortDateFormat.format(start)} – ${endLabel}`;
}

/** A send run dates thousands of digests alike: each label is formatted once (Intl is slow). */
const dateLabels = new Map<string, string>();

function dateLabelFor(frequency: string, localDate: string): string {
  const key = `${frequency} ${localDate}`;
  let label = dateLabels.get(key);
  if (label === undefined) {
    label = dateLabelOf(frequency, localDate);
    // Only a few dates are current at a time; a long-running worker starts over now and then.
    if (dateLabels.size >= 1000) dateLabels.clear();
    dateLabels.set(key, label);
  }
  return label;
}

/**
 * What the inbox shows after the subject, which names the topics: the next titles, or for a digest of
 * one card its authors and summary, so that it is never empty nor the subject again.
 */
function preheaderOf(cards: readonly PaperCard[], dateLabel: string, topicsLine: string): string {
  const [first, ...next] = cards;
  if (next.length > 0)
    return next
      .slice(0, 3)
      .map((card) => card.paper.title)
      .join(' · ');
  if (first) return `${first.paper.authorsLine}: ${first.paper.summary}`;
  return `${dateLabel}: nothing new ${topicsLine ? `on ${topicsLine}` : 'this time'}`;
}

/** Everything the digest templates show, from the picks and the subscriber. */
export function digestEmailValues(input: {
  picks: readonly DigestPick[];
  /** How many cards the email shows (the subscriber's maxPapers); the web version shows all. */
  shown: number;
  localDate: string;
  subscriber: { email: string; frequency: string; topics: readonly string[] };
  urls: { web: string; manage: string; unsubscribe: string };
  /** The feedback links of the pick at this place in `picks`; none in the web version. */
  feedback?: (pickIndex: number) => FeedbackUrls;
}): DigestEmailValues {
  const { picks, subscriber } = input;
  const shownPicks = picks.slice(0, input.shown);
  const sections = sectionsOf(shownPicks, subscriber.topics, input.feedback);
  const cards = sections.flatMap((section) => section.papers);
  const moreCount = Math.max(0, picks.length - cards.length);
  const topicsLine = subscriber.topics.join('; ');
  const dateLabel = dateLabelFor(subscriber.frequency, input.localDate);
  // The topics that found something, in the reader's order: what the subject promises.
  const pickTopics = new Set(picks.map((pick) => pick.topic));
  const found = subscriber.topics.filter((topic) => pickTopics.has(topic));
  const foundLiked = pickTopics.has(likedTopicLabel);
  const isTopicless = subscriber.topics.length === 0 && !foundLiked;
  // The pick list stops at digestPickLimit: at the cap there were at least that many.
  const count =
    picks.length >= digestPickLimit ? `${digestPickLimit}+ new papers` : plural(picks.length, 'new paper');
  const subject =
    picks.length === 0
      ? 'No new papers'
      : isTopicless
        ? `${count}, the most upvoted`
        : found.length === 0
          ? `${count} similar to ones you liked`
          : `${count} on ${topicsPhrase(found)}${foundLiked ? ' and similar to ones you liked' : ''}`;
  return {
    subject: subject.length > 110 ? `${subject.slice(0, 109).trimEnd()}…` : subject,
    preheader: preheaderOf(cards, dateLabel, topicsLine),
    dateLabel,
    countLabel: isTopicless ? `${count}, the most upvoted` : count,
    topicsLine,
    isTopicless,
    frequency: subscriber.frequency,
    email: subscriber.email,
    papers: cards,
    sections,
    contents:
      sections.length > 1
        ? sections.map((section) => ({
            id: section.id,
            label: shortened(section.heading ?? '', 40),
            count: section.papers.length,
          }))
        : [],
    moreCount,
    moreLabel: `${plural(moreCount, 'more paper')}`,
    webUrl: input.urls.web,
    manageUrl: input.urls.manage,
    unsubscribeUrl: input.urls.unsubscribe,
  };
}
