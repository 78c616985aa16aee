/**
 * Every route the app mounts, described once: method, path, who may call it, the zod schemas its
 * input is parsed with and its answers are shaped by, and each status it can answer. `openapi.ts`
 * turns this table into the OpenAPI document; a test checks it against the routes express really
 * mounts, both ways. Adding a route means adding an entry here.
 */
import { z } from 'zod';
import { TopicFeedInput } from '../feeds/topic-feed.js';
import { ListPapersInput } from '../papers/list-papers.js';
import { PreferencesPatch, SubscribeInput } from '../subscribers/preferences.js';
import { PreviewInput } from '../topics/preview.js';
import {
  Accepted,
  AdminStats,
  ApiDocumentShape,
  Health,
  IngestResult,
  JsonFeed,
  LikedPapersAdded,
  Me,
  PapersList,
  Readiness,
  SubscriberExport,
  SubscriberView,
  TopicPreview,
} from './api-schemas.js';
import { LikedPapersInput } from './routes/api-me.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route; an operation lists the ways it accepts (any one will do). */
export const securitySchemes = {
  manageToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The subscriber’s manage token: the last part of the manage link in every digest email.',
  },
  adminToken: { type: 'http', scheme: 'bearer', description: 'The operator’s ADMIN_TOKEN.' },
  adminQueryToken: {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description: 'ADMIN_TOKEN once in the address bar: opens a dashboard session (a cookie) and redirects.',
  },
  adminSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'paperboy_admin',
    description: 'The dashboard session cookie.',
  },
} as const;
export type Auth = keyof typeof securitySchemes;

export type Content =
  | { type: 'json'; schema: z.ZodType; mediaType?: string }
  | { type: 'html' }
  | { type: 'text'; mediaType: string }
  /** Atom or JSON Feed 1.1, as the address ends (`.atom`, `.json`). */
  | { type: 'feed' }
  | { type: 'none' };

export interface Answer {
  description: string;
  content: Content;
}

export interface RouteDescription {
  method: Method;
  /** OpenAPI form: `/manage/{token}`. */
  path: string;
  summary: string;
  description?: string;
  tag: (typeof tags)[number]['name'];
  /** Alternatives; absent = public. */
  auth?: Auth[];
  /** The schema the route parses `req.query` with (a strict object: unknown parameters are refused). */
  query?: z.ZodObject;
  body?: { mediaTypes: string[]; schema: z.ZodType; description?: string };
  /** Successful answers by status. */
  answers: Record<number, Answer>;
  /**
   * Error statuses. Under `/api/` each answers `ErrorBody` with a code of `statusFor`'s for that status;
   * elsewhere an HTML page says what went wrong.
   */
  errors: number[];
  /** A mounted app or file server: this entry stands for every path under `prefix`. */
  prefix?: string;
}

export const tags = [
  { name: 'Subscriptions', description: 'Subscribing, and what a topic would catch.' },
  { name: 'Your subscription', description: 'A subscriber’s own data, with their manage token.' },
  { name: 'Papers', description: 'The stored papers; ingestion for the operator.' },
  { name: 'Operations', description: 'Health, readiness, metrics, statistics and the queue dashboard.' },
  { name: 'Pages', description: 'The server-rendered pages and forms; every one works without JavaScript.' },
  {
    name: 'Feeds',
    description:
      'Atom and JSON Feed 1.1 for feed readers: any topic, or a subscriber’s own. Conditional GET (`If-None-Match`, `If-Modified-Since`) answers 304.',
  },
  { name: 'API description', description: 'This document and its reference page.' },
] as const;

/** Path parameters, by name: what each one is, wherever it appears. */
export const pathParameters: Record<string, string> = {
  token: 'The signed token from the link in the email.',
  arxivId:
    'An arXiv id without version, e.g. `2511.12345`; an old-style id keeps its slash (`hep-th/9901001`, or `hep-th%2F9901001`).',
  path: 'A file of the stylesheet and script.',
  file: 'The feed token from the manage page, then `.atom` (Atom) or `.json` (JSON Feed 1.1).',
};

export const json = (schema: z.ZodType, description: string): Answer => ({
  description,
  content: { type: 'json', schema },
});
export const page = (description: string): Answer => ({ description, content: { type: 'html' } });
export const noContent = (description: string): Answer => ({ description, content: { type: 'none' } });

const form = (schema: z.ZodType, description?: string) => ({
  mediaTypes: ['application/x-www-form-urlencoded'],
  schema,
  description,
});
const jsonBody = (schema: z.ZodType, description?: string) => ({
  mediaTypes: ['application/json'],
  schema,
  description,
});

// Forms are read field by field (`routes/pages.ts`) and then parsed with the API's schemas; these
// describe the fields a browser sends.
const formText = z.string();
const formNumber = z.string().regex(/^\d{1,3}$/);
const SubscribeForm = z.object({
  email: formText,
  topics: formText.optional().meta({ description: 'One topic per line' }),
  frequency: z.enum(['daily', 'weekly']).optional(),
  timezone: formText.optional(),
});
const ManageForm = z.object({
  action: z
    .enum(['unsubscribe', 'undo-feedback', 'clear-feedback', 'resubscribe', 'delete'])
    .optional()
    .meta({ description: 'Absent: save the preferences sent' }),
  topics: formText.optional().meta({ description: 'One topic per line' }),
  frequency: z.enum(['daily', 'weekly']).optional(),
  weeklyDay: formNumber.optional(),
  timezone: formText.optional(),
  sendHour: formNumber.optional(),
  maxPapers: formNumber.optional(),
  delivery: z.enum(['email', 'feed']).optional(),
  arxivId: formText.optional().meta({ description: 'With `undo-feedback`' }),
  confirmDelete: z.literal('yes').optional().meta({ description: 'With `delete`' }),
});
const LikedPapersForm = z.object({
  action: z.enum(['add', 'remove', 'clear']),
  papers: formText.optional().meta({ description: 'With `add`: arXiv ids, links, or a BibTeX file' }),
  arxivId: formText.optional().meta({ description: 'With `remove`' }),
});
const FeedbackForm = z.object({
  action: z.literal('undo').optional().meta({ description: 'Absent: record the feedback the link names' }),
});
const OneClickForm = z.object({
  'List-Unsubscribe': z.literal('One-Click').optional().meta({ description: 'RFC 8058 one-click' }),
});

const html200 = (description: string) => ({ 200: page(description) });

export const routes: RouteDescription[] = [
  // The JSON API.
  {
    method: 'post',
    path: '/api/subscriptions',
    tag: 'Subscriptions',
    summary: 'Subscribe',
    description:
      'Always `202 {"status":"pending_confirmation"}`, whether or not the address is known. A new or pending address gets a confirmation email; an active one a "manage your subscription" email; at most one email per address per 10 minutes.',
    body: jsonBody(SubscribeInput),
    answers: { 202: json(Accepted, 'Accepted; the email (if any) is on its way') },
    errors: [400, 413, 415, 429, 500],
  },
  {
    method: 'get',
    path: '/api/topics/preview',
    tag: 'Subscriptions',
    summary: 'Preview a topic',
    description:
      'The recent papers a topic matches, best first. A syntax error is `400 invalid_topic` with `details.position`.',
    query: PreviewInput,
    answers: { 200: json(TopicPreview, 'The matches') },
    errors: [400, 429, 500],
  },
  {
    method: 'get',
    path: '/api/me',
    tag: 'Your subscription',
    summary: 'Your subscription',
    auth: ['manageToken'],
    answers: {
      200: json(Me, 'Address, state, preferences, feedback, liked papers, and the address of your own feed'),
    },
    errors: [401, 500],
  },
  {
    method: 'patch',
    path: '/api/me',
    tag: 'Your subscription',
    summary: 'Change preferences',
    description: 'Only the fields sent change; an invalid field changes nothing (400 with a code naming it).',
    auth: ['manageToken'],
    body: jsonBody(PreferencesPatch),
    answers: { 200: json(SubscriberView, 'The subscription as it is now') },
    errors: [400, 401, 404, 413, 415, 500],
  },
  {
    method: 'delete',
    path: '/api/me',
    tag: 'Your subscription',
    summary: 'Delete your data',
    description: 'The subscriber and everything about them; every link in old emails dies.',
    auth: ['manageToken'],
    answers: { 204: noContent('Deleted') },
    errors: [401, 500],
  },
  {
    method: 'get',
    path: '/api/me/export',
    tag: 'Your subscription',
    summary: 'Export your data',
    auth: ['manageToken'],
    answers: { 200: json(SubscriberExport, 'Everything paperboy keeps about you') },
    errors: [401, 404, 500],
  },
  {
    method: 'post',
    path: '/api/me/liked-papers',
    tag: 'Your subscription',
    summary: 'Add papers you like',
    description: 'arXiv ids, links or a BibTeX file (up to 2 MB); over any limit nothing is added.',
    auth: ['manageToken'],
    body: jsonBody(LikedPapersInput),
    answers: { 200: json(LikedPapersAdded, 'What became of each item') },
    errors: [400, 401, 413, 415, 500],
  },
  {
    method: 'delete',
    path: '/api/me/liked-papers',
    tag: 'Your subscription',
    summary: 'Forget all papers you like',
    auth: ['manageToken'],
    answers: { 204: noContent('Done (also when there were none)') },
    errors: [401, 500],
  },
  {
    method: 'delete',
    path: '/api/me/liked-papers/{arxivId}',
    tag: 'Your subscription',
    summary: 'Forget one paper you like',
    auth: ['manageToken'],
    answers: { 204: noContent('Done (also when it was not in the list)') },
    errors: [401, 404, 500],
  },
  {
    method: 'delete',
    path: '/api/me/feedback',
    tag: 'Your subscription',
    summary: 'Take back all "more / less like this"',
    auth: ['manageToken'],
    answers: { 204: noContent('Done (also when there was none)') },
    errors: [401, 500],
  },
  {
    method: 'delete',
    path: '/api/me/feedback/{arxivId}',
    tag: 'Your subscription',
    summary: 'Take back the feedback on one paper',
    auth: ['manageToken'],
    answers: { 204: noContent('Done (also when there was none)') },
    errors: [401, 404, 500],
  },
  {
    method: 'get',
    path: '/api/papers',
    tag: 'Papers',
    summary: 'List papers',
    description: 'Newest first; `q` is a plain word search (every word must occur).',
    query: ListPapersInput,
    answers: { 200: json(PapersList, 'The papers') },
    errors: [400, 500],
  },
  {
    method: 'post',
    path: '/api/admin/papers',
    tag: 'Papers',
    summary: 'Ingest papers',
    description:
      'A JSON array of papers, each in paperboy’s own format or as a Hugging Face daily-papers item (up to 10 MB). Bad records are listed and the rest stored.',
    auth: ['adminToken'],
    body: jsonBody(z.array(z.unknown()), 'The papers'),
    answers: { 200: json(IngestResult, 'What was stored') },
    errors: [400, 401, 404, 413, 415, 429, 500],
  },
  {
    method: 'get',
    path: '/api/admin/stats',
    tag: 'Operations',
    summary: 'Statistics',
    auth: ['adminToken'],
    answers: { 200: json(AdminStats, 'Counts by state, the last ingestion and tick, queue depths') },
    errors: [401, 404, 429, 500],
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    tag: 'API description',
    summary: 'This document',
    description: 'OpenAPI 3.1, generated from the schemas the routes parse with.',
    answers: { 200: json(ApiDocumentShape, 'The OpenAPI document') },
    errors: [],
  },
  {
    method: 'get',
    path: '/api/docs',
    tag: 'API description',
    summary: 'Reference page',
    description: 'This document as a readable page.',
    answers: html200('The reference page'),
    errors: [],
  },

  // Operations.
  {
    method: 'get',
    path: '/healthz',
    tag: 'Operations',
    summary: 'Liveness',
    answers: { 200: json(Health, 'The process answers') },
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'Operations',
    summary: 'Readiness',
    answers: {
      200: json(Readiness, 'The database and Redis answer'),
      503: json(Readiness, 'The database or Redis does not answer'),
    },
    errors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'Operations',
    summary: 'Prometheus metrics',
    answers: {
      200: {
        description: 'Prometheus text format',
        content: { type: 'text', mediaType: 'text/plain; version=0.0.4; charset=utf-8' },
      },
    },
    errors: [500],
  },
  {
    method: 'get',
    path: '/admin/queues',
    prefix: '/admin/queues',
    tag: 'Operations',
    summary: 'Queue dashboard',
    description:
      'bull-board: its pages and its own JSON API live under this prefix and are not described here. Only while ADMIN_TOKEN is set.',
    auth: ['adminQueryToken', 'adminSession', 'adminToken'],
    answers: {
      200: page('The dashboard'),
      303: noContent(
        'Signed in with `?token=`: the session cookie is set; on to the same address without it',
      ),
    },
    errors: [401, 403, 404, 415, 429, 500],
  },
  {
    method: 'get',
    path: '/admin',
    tag: 'Operations',
    summary: 'Admin overview',
    description:
      'Subscribers by status over time, digests per day, ingestion and top topics, as charts. Only while ADMIN_TOKEN is set.',
    auth: ['adminQueryToken', 'adminSession', 'adminToken'],
    answers: {
      200: page('The overview'),
      303: noContent(
        'Signed in with `?token=`: the session cookie is set; on to the same address without it',
      ),
    },
    errors: [401, 404, 429, 500],
  },
  {
    method: 'get',
    path: '/admin/logout',
    tag: 'Operations',
    summary: 'Dashboard sign-out page',
    description: 'Only while ADMIN_TOKEN is set (404 otherwise), as every admin route.',
    answers: html200('A page with the sign-out button'),
    errors: [404],
  },
  {
    method: 'post',
    path: '/admin/logout',
    tag: 'Operations',
    summary: 'Sign out of the dashboard',
    description: 'Ends the session and clears its cookie; only from this site’s own pages.',
    answers: html200('Signed out'),
    errors: [403, 404, 500],
  },

  // Pages.
  {
    method: 'get',
    path: '/',
    tag: 'Pages',
    summary: 'Subscribe page',
    answers: html200('The subscribe form with a live topic preview'),
    errors: [],
  },
  {
    method: 'post',
    path: '/subscribe',
    tag: 'Pages',
    summary: 'Subscribe (form)',
    body: form(SubscribeForm),
    answers: { 202: page('Check your inbox') },
    errors: [400, 403, 413, 429, 500],
  },
  {
    method: 'get',
    path: '/confirm/{token}',
    tag: 'Pages',
    summary: 'Confirmation page',
    description: 'Shows what the button turns on; changes nothing (link scanners prefetch).',
    answers: html200('The "Confirm subscription" button'),
    errors: [404, 500],
  },
  {
    method: 'post',
    path: '/confirm/{token}',
    tag: 'Pages',
    summary: 'Confirm',
    answers: html200('Subscribed'),
    errors: [403, 404, 429, 500],
  },
  {
    method: 'get',
    path: '/manage/{token}',
    tag: 'Pages',
    summary: 'Manage page',
    answers: html200('Preferences, feedback, papers you like, unsubscribe, export and delete'),
    errors: [404, 500],
  },
  {
    method: 'post',
    path: '/manage/{token}',
    tag: 'Pages',
    summary: 'Save preferences, or another manage-page action',
    body: form(ManageForm),
    answers: html200('The manage page with what was done'),
    errors: [400, 403, 404, 413, 429, 500],
  },
  {
    method: 'get',
    path: '/manage/{token}/export',
    tag: 'Pages',
    summary: 'Download your data',
    answers: {
      200: {
        description: 'paperboy-export.json, as an attachment',
        content: { type: 'json', schema: SubscriberExport },
      },
    },
    errors: [404, 500],
  },
  {
    method: 'post',
    path: '/manage/{token}/liked-papers',
    tag: 'Pages',
    summary: 'Add or remove papers you like (form)',
    body: form(LikedPapersForm),
    answers: html200('The manage page with what became of each item'),
    errors: [400, 403, 404, 413, 429, 500],
  },
  {
    method: 'get',
    path: '/feedback/{token}',
    tag: 'Pages',
    summary: '"More / less like this" page',
    description: 'Shows the button; changes nothing.',
    answers: html200('The button'),
    errors: [404, 500],
  },
  {
    method: 'post',
    path: '/feedback/{token}',
    tag: 'Pages',
    summary: 'Record or undo "more / less like this"',
    body: form(FeedbackForm),
    answers: html200('Recorded'),
    errors: [400, 403, 404, 413, 429, 500],
  },
  {
    method: 'get',
    path: '/unsubscribe/{token}',
    tag: 'Pages',
    summary: 'Unsubscribe page',
    answers: html200('The "Unsubscribe" button'),
    errors: [404, 500],
  },
  {
    method: 'post',
    path: '/unsubscribe/{token}',
    tag: 'Pages',
    summary: 'Unsubscribe',
    description: 'Also the RFC 8058 one-click target: 200 with a page, never a redirect; idempotent.',
    body: {
      mediaTypes: ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'],
      schema: OneClickForm,
    },
    answers: html200('Unsubscribed'),
    errors: [400, 404, 413, 500],
  },
  {
    method: 'get',
    path: '/digests/{token}',
    tag: 'Pages',
    summary: 'A digest in the browser',
    answers: html200('The web version of one digest'),
    errors: [404, 500],
  },

  // Feeds.
  ...(['atom', 'json'] as const).map(
    (format): RouteDescription => ({
      method: 'get',
      path: `/feeds/topic.${format}`,
      tag: 'Feeds',
      summary: `A topic as ${format === 'atom' ? 'Atom' : 'JSON Feed 1.1'}`,
      description:
        'What the topic preview shows, best first, each paper with its abstract, authors, links and why it matched. Cached five minutes; shares the preview’s per-client limit, which only uncached feeds count against.',
      query: TopicFeedInput,
      answers: {
        200:
          format === 'atom'
            ? { description: 'The feed', content: { type: 'text', mediaType: 'application/atom+xml' } }
            : {
                description: 'The feed',
                content: { type: 'json', schema: JsonFeed, mediaType: 'application/feed+json' },
              },
        304: noContent('Not changed since the reader’s copy'),
      },
      errors: [400, 429, 500],
    }),
  ),
  {
    method: 'get',
    path: '/feeds/{file}',
    tag: 'Feeds',
    summary: 'Your own feed',
    description:
      'The papers of your digests of the last 30 days (at most 100), emailed or, with delivery `feed`, published to the feed. The address is `feedUrl` in `GET /api/me`; it never expires.',
    answers: {
      200: { description: 'The feed', content: { type: 'feed' } },
      304: noContent('Not changed since the reader’s copy'),
    },
    errors: [404, 500],
  },
  {
    method: 'get',
    path: '/static/{path}',
    prefix: '/static',
    tag: 'Pages',
    summary: 'Stylesheet and script',
    answers: {
      200: { description: 'The file', content: { type: 'text', mediaType: '*/*' } },
    },
    errors: [404],
  },
];
