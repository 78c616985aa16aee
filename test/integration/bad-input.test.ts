import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscriber } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import type { ErrorCode } from '../../src/errors.js';
import { api, startTestApp, type TestApp } from '../support/app.js';
import { snapshotDb } from '../support/db.js';
import { seedSubscriber } from '../support/factories.js';

// SPEC §4: bad input never changes stored data and never gets a 500, and the code names the field.

type Target = 'POST /api/subscriptions' | 'PATCH /api/me' | 'POST /subscribe' | 'POST /manage/:token';

/** Exactly these bytes and headers, for bodies that JSON or a form could not express. */
class RawBody {
  readonly body: string | Uint8Array<ArrayBuffer>;
  constructor(
    body: string | Uint8Array,
    readonly headers: Record<string, string>,
  ) {
    this.body = typeof body === 'string' ? body : new Uint8Array(body);
  }
}
const raw = (body: string | Uint8Array, contentType?: string, headers: Record<string, string> = {}) =>
  new RawBody(body, contentType === undefined ? headers : { 'content-type': contentType, ...headers });

interface BadInput {
  target: Target;
  name: string;
  /** Sent as JSON to the API and url-encoded to the HTML forms, unless it is a RawBody. */
  input: unknown;
  status: number;
  code: ErrorCode;
}

const row =
  (target: Target) =>
  (name: string, input: unknown, status: number, code: ErrorCode): BadInput => ({
    target,
    name,
    input,
    status,
    code,
  });
const subscribeApi = row('POST /api/subscriptions');
const patchMe = row('PATCH /api/me');
const subscribeForm = row('POST /subscribe');
const manageForm = row('POST /manage/:token');

const newcomer = 'newcomer@example.org';
const tooLongTopic = 'a'.repeat(201);
const topicList = (count: number) => Array.from({ length: count }, (_, i) => `topic ${i + 1}`);
/** `length` characters in all, local part of 64, domain labels of at most 63. */
const addressOfLength = (length: number) =>
  `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(length - 64 - 1 - 63 - 1 - 63 - 1 - 4)}.org`;
const bigText = 'x'.repeat(70 * 1024);

const controlCharacters: [string, string][] = [
  ['NUL', '\u0000'],
  ['BEL', '\u0007'],
  ['DEL', '\u007f'],
  ['NEL (C1)', '\u0085'],
  ['LINE SEPARATOR', '\u2028'],
];

const controlCharacterRows = controlCharacters.flatMap(([label, char]) => [
  subscribeApi(`${label} in the email`, { email: `new${char}comer@example.org` }, 400, 'invalid_email'),
  subscribeApi(
    `${label} in a topic`,
    { email: newcomer, topics: [`diffusion${char}models`] },
    400,
    'invalid_topics',
  ),
  subscribeApi(
    `${label} in the frequency`,
    { email: newcomer, frequency: `daily${char}` },
    400,
    'invalid_frequency',
  ),
  subscribeApi(
    `${label} in the timezone`,
    { email: newcomer, timezone: `Europe/Berlin${char}` },
    400,
    'invalid_timezone',
  ),
  patchMe(`${label} in a topic`, { topics: ['ok', `graph${char}networks`] }, 400, 'invalid_topics'),
  patchMe(`${label} in the frequency`, { frequency: `${char}weekly` }, 400, 'invalid_frequency'),
  patchMe(`${label} in the timezone`, { timezone: `Asia/${char}Tokyo` }, 400, 'invalid_timezone'),
  subscribeForm(`${label} in the email`, { email: `newcomer@exa${char}mple.org` }, 400, 'invalid_email'),
  subscribeForm(
    `${label} in a topic`,
    { email: newcomer, topics: `diffusion${char}models` },
    400,
    'invalid_topics',
  ),
  subscribeForm(
    `${label} in the frequency`,
    { email: newcomer, frequency: `weekly${char}` },
    400,
    'invalid_frequency',
  ),
  subscribeForm(
    `${label} in the timezone`,
    { email: newcomer, timezone: `UTC${char}` },
    400,
    'invalid_timezone',
  ),
  manageForm(`${label} in a topic`, { topics: `ok\nbad${char}topic` }, 400, 'invalid_topics'),
  manageForm(`${label} in the frequency`, { frequency: `dai${char}ly` }, 400, 'invalid_frequency'),
  manageForm(`${label} in the timezone`, { timezone: `Europe/${char}Paris` }, 400, 'invalid_timezone'),
]);

const badInputs: BadInput[] = [
  // Malformed addresses.
  subscribeApi('an address without @', { email: 'newcomer.example.org' }, 400, 'invalid_email'),
  subscribeApi('an address with two @', { email: 'new@comer@example.org' }, 400, 'invalid_email'),
  subscribeApi('an address with a space', { email: 'new comer@example.org' }, 400, 'invalid_email'),
  subscribeApi('an address with a leading space', { email: ' newcomer@example.org' }, 400, 'invalid_email'),
  subscribeApi('an address with a trailing dot', { email: 'newcomer@example.org.' }, 400, 'invalid_email'),
  subscribeApi('an IPv4 literal domain', { email: 'newcomer@[127.0.0.1]' }, 400, 'invalid_email'),
  subscribeApi('an IPv6 literal domain', { email: 'newcomer@[IPv6:::1]' }, 400, 'invalid_email'),
  subscribeApi('a bare IP domain', { email: 'newcomer@127.0.0.1' }, 400, 'invalid_email'),
  subscribeApi('a domain without a dot', { email: 'newcomer@localhost' }, 400, 'invalid_email'),
  subscribeApi('an address of 255 characters', { email: addressOfLength(255) }, 400, 'invalid_email'),
  subscribeApi(
    'a local part of 65 characters',
    { email: `${'a'.repeat(65)}@example.org` },
    400,
    'invalid_email',
  ),
  subscribeApi('a unicode local part', { email: 'jörg@example.org' }, 400, 'invalid_email'),
  subscribeApi('a quoted local part', { email: '"new comer"@example.org' }, 400, 'invalid_email'),
  subscribeApi('a display name', { email: 'Ada <ada@example.org>' }, 400, 'invalid_email'),
  subscribeApi('two addresses', { email: 'ada@example.org,eve@example.org' }, 400, 'invalid_email'),
  subscribeApi('an empty address', { email: '' }, 400, 'invalid_email'),
  subscribeApi('no address', { topics: ['diffusion'] }, 400, 'invalid_email'),
  subscribeApi('an address that is a number', { email: 42 }, 400, 'invalid_email'),
  subscribeForm('an address without @', { email: 'newcomer.example.org' }, 400, 'invalid_email'),
  subscribeForm('an address with two @', { email: 'new@comer@example.org' }, 400, 'invalid_email'),
  subscribeForm('an empty address', { email: '' }, 400, 'invalid_email'),
  subscribeForm('a unicode local part', { email: 'jörg@example.org' }, 400, 'invalid_email'),

  // Header injection.
  subscribeApi('a Bcc header in the email', { email: 'a@b.org\r\nBcc: x@y.org' }, 400, 'invalid_email'),
  subscribeApi(
    'a line feed in a topic',
    { email: newcomer, topics: ['diffusion\nBcc: x@y.org'] },
    400,
    'invalid_topics',
  ),
  subscribeApi(
    'a line break in the timezone',
    { email: newcomer, timezone: 'UTC\r\nBcc: x@y.org' },
    400,
    'invalid_timezone',
  ),
  patchMe('a line break in a topic', { topics: ['diffusion\r\nBcc: x@y.org'] }, 400, 'invalid_topics'),
  patchMe('a line feed in the timezone', { timezone: 'UTC\nBcc: x@y.org' }, 400, 'invalid_timezone'),
  subscribeForm('a Bcc header in the email', { email: 'a@b.org\r\nBcc: x@y.org' }, 400, 'invalid_email'),
  manageForm('a line break in the timezone', { timezone: 'UTC\r\nBcc: x@y.org' }, 400, 'invalid_timezone'),

  // Control characters in every string field.
  ...controlCharacterRows,

  // The body itself.
  subscribeApi('a body over 64 KB', { email: newcomer, topics: [bigText] }, 413, 'payload_too_large'),
  subscribeApi(
    'a gzip body that inflates past 64 KB',
    raw(
      gzipSync(JSON.stringify({ email: newcomer, topics: [' '.repeat(1024 * 1024)] })),
      'application/json',
      {
        'content-encoding': 'gzip',
      },
    ),
    413,
    'payload_too_large',
  ),
  subscribeApi(
    'a corrupt gzip body',
    raw('this is not gzip', 'application/json', { 'content-encoding': 'gzip' }),
    400,
    'invalid_body',
  ),
  subscribeApi(
    'an unknown content encoding',
    raw(JSON.stringify({ email: newcomer }), 'application/json', { 'content-encoding': 'compress' }),
    415,
    'unsupported_media_type',
  ),
  subscribeApi(
    'JSON in a charset other than UTF-8',
    raw(JSON.stringify({ email: newcomer }), 'application/json; charset=latin1'),
    415,
    'unsupported_media_type',
  ),
  subscribeApi(
    'JSON sent as text/plain',
    raw(JSON.stringify({ email: newcomer }), 'text/plain'),
    415,
    'unsupported_media_type',
  ),
  subscribeApi(
    'a form-encoded body',
    raw(`email=${encodeURIComponent(newcomer)}`, 'application/x-www-form-urlencoded'),
    415,
    'unsupported_media_type',
  ),
  subscribeApi(
    'a multipart body',
    raw(
      `--b\r\ncontent-disposition: form-data; name="email"\r\n\r\n${newcomer}\r\n--b--\r\n`,
      'multipart/form-data; boundary=b',
    ),
    415,
    'unsupported_media_type',
  ),
  subscribeApi('XML', raw(`<email>${newcomer}</email>`, 'application/xml'), 415, 'unsupported_media_type'),
  subscribeApi(
    'a body without a content type',
    raw(new TextEncoder().encode(JSON.stringify({ email: newcomer }))),
    415,
    'unsupported_media_type',
  ),
  subscribeApi('truncated JSON', raw('{"email":', 'application/json'), 400, 'invalid_json'),
  subscribeApi(
    'JSON with single quotes',
    raw(`{'email': '${newcomer}'}`, 'application/json'),
    400,
    'invalid_json',
  ),
  subscribeApi(
    'JSON with a trailing comma',
    raw(`{"email": "${newcomer}",}`, 'application/json'),
    400,
    'invalid_json',
  ),
  subscribeApi('a JSON array', raw(`["${newcomer}"]`, 'application/json'), 400, 'invalid_body'),
  subscribeApi('JSON null', raw('null', 'application/json'), 400, 'invalid_body'),
  subscribeApi('a JSON string', raw(`"${newcomer}"`, 'application/json'), 400, 'invalid_body'),
  subscribeApi('a JSON number', raw('42', 'application/json'), 400, 'invalid_body'),
  subscribeApi('JSON true', raw('true', 'application/json'), 400, 'invalid_body'),
  subscribeApi('an unknown field', { email: newcomer, isAdmin: true }, 400, 'invalid_body'),
  subscribeApi('a status field', { email: newcomer, status: 'active' }, 400, 'invalid_body'),
  subscribeApi(
    'a __proto__ field',
    raw(`{"email":"${newcomer}","__proto__":{"status":"active"}}`, 'application/json'),
    400,
    'invalid_body',
  ),
  patchMe('a body over 64 KB', { topics: [bigText] }, 413, 'payload_too_large'),
  patchMe('JSON sent as text/plain', raw('{"sendHour":5}', 'text/plain'), 415, 'unsupported_media_type'),
  patchMe(
    'a form-encoded body',
    raw('sendHour=5', 'application/x-www-form-urlencoded'),
    415,
    'unsupported_media_type',
  ),
  patchMe('truncated JSON', raw('{"sendHour":', 'application/json'), 400, 'invalid_json'),
  patchMe('a JSON array', raw('[{"sendHour":5}]', 'application/json'), 400, 'invalid_body'),
  patchMe('JSON null', raw('null', 'application/json'), 400, 'invalid_body'),
  patchMe('a JSON string', raw('"weekly"', 'application/json'), 400, 'invalid_body'),
  patchMe('a JSON number', raw('5', 'application/json'), 400, 'invalid_body'),
  patchMe('an email change', { email: 'someone-else@example.org' }, 400, 'invalid_body'),
  patchMe('a status field', { status: 'active' }, 400, 'invalid_body'),
  patchMe('a token salt field', { tokenSalt: 'chosen' }, 400, 'invalid_body'),
  subscribeForm('a body over 64 KB', { email: newcomer, topics: bigText }, 413, 'payload_too_large'),
  subscribeForm(
    'more than 50 fields',
    raw(Array.from({ length: 60 }, (_, i) => `field${i}=1`).join('&'), 'application/x-www-form-urlencoded'),
    400,
    'invalid_body',
  ),
  subscribeForm(
    'the email field twice',
    raw('email=ada%40example.org&email=eve%40example.org', 'application/x-www-form-urlencoded'),
    400,
    'invalid_body',
  ),
  manageForm('a body over 64 KB', { topics: bigText }, 413, 'payload_too_large'),
  manageForm(
    'the topics field twice',
    raw('action=save&topics=a&topics=b&sendHour=5', 'application/x-www-form-urlencoded'),
    400,
    'invalid_body',
  ),

  // Time zones.
  subscribeApi('an unknown timezone', { email: newcomer, timezone: 'Mars/Olympus' }, 400, 'invalid_timezone'),
  subscribeApi(
    'an offset instead of a timezone',
    { email: newcomer, timezone: 'UTC+5' },
    400,
    'invalid_timezone',
  ),
  subscribeApi(
    'a path as timezone',
    { email: newcomer, timezone: '../../etc/passwd' },
    400,
    'invalid_timezone',
  ),
  subscribeApi('an empty timezone', { email: newcomer, timezone: '' }, 400, 'invalid_timezone'),
  subscribeApi('a timezone that is a number', { email: newcomer, timezone: 5 }, 400, 'invalid_timezone'),
  patchMe('an unknown timezone', { timezone: 'Mars/Olympus' }, 400, 'invalid_timezone'),
  patchMe('a path as timezone', { timezone: '../../etc/passwd' }, 400, 'invalid_timezone'),
  patchMe('a timezone with a space', { timezone: 'America/New York' }, 400, 'invalid_timezone'),
  patchMe('a timezone of 70 characters', { timezone: `Europe/${'a'.repeat(63)}` }, 400, 'invalid_timezone'),
  subscribeForm(
    'an unknown timezone',
    { email: newcomer, timezone: 'Mars/Olympus' },
    400,
    'invalid_timezone',
  ),
  manageForm('an unknown timezone', { timezone: 'Mars/Olympus' }, 400, 'invalid_timezone'),
  manageForm('an offset instead of a timezone', { timezone: 'UTC+5' }, 400, 'invalid_timezone'),
  manageForm('an empty timezone', { timezone: '' }, 400, 'invalid_timezone'),

  // Send hour.
  subscribeApi('sendHour -1', { email: newcomer, sendHour: -1 }, 400, 'invalid_send_hour'),
  subscribeApi('sendHour 24', { email: newcomer, sendHour: 24 }, 400, 'invalid_send_hour'),
  subscribeApi('sendHour 7.5', { email: newcomer, sendHour: 7.5 }, 400, 'invalid_send_hour'),
  subscribeApi('sendHour "7"', { email: newcomer, sendHour: '7' }, 400, 'invalid_send_hour'),
  subscribeApi('sendHour null', { email: newcomer, sendHour: null }, 400, 'invalid_send_hour'),
  patchMe('sendHour 24', { sendHour: 24 }, 400, 'invalid_send_hour'),
  patchMe('sendHour "7"', { sendHour: '7' }, 400, 'invalid_send_hour'),
  patchMe('sendHour null', { sendHour: null }, 400, 'invalid_send_hour'),
  manageForm('sendHour 24', { sendHour: '24' }, 400, 'invalid_send_hour'),
  manageForm('sendHour -1', { sendHour: '-1' }, 400, 'invalid_send_hour'),
  manageForm('sendHour 7.5', { sendHour: '7.5' }, 400, 'invalid_send_hour'),
  manageForm('sendHour "seven"', { sendHour: 'seven' }, 400, 'invalid_send_hour'),
  manageForm('an empty sendHour', { sendHour: '' }, 400, 'invalid_send_hour'),

  // Frequency and weekly day.
  subscribeApi('frequency "hourly"', { email: newcomer, frequency: 'hourly' }, 400, 'invalid_frequency'),
  subscribeApi('an empty frequency', { email: newcomer, frequency: '' }, 400, 'invalid_frequency'),
  patchMe('frequency "Daily"', { frequency: 'Daily' }, 400, 'invalid_frequency'),
  patchMe('an empty frequency', { frequency: '' }, 400, 'invalid_frequency'),
  subscribeForm('frequency "hourly"', { email: newcomer, frequency: 'hourly' }, 400, 'invalid_frequency'),
  manageForm('frequency "hourly"', { frequency: 'hourly' }, 400, 'invalid_frequency'),
  subscribeApi('weeklyDay 7', { email: newcomer, weeklyDay: 7 }, 400, 'invalid_weekly_day'),
  subscribeApi('weeklyDay -1', { email: newcomer, weeklyDay: -1 }, 400, 'invalid_weekly_day'),
  patchMe('weeklyDay 7', { weeklyDay: 7 }, 400, 'invalid_weekly_day'),
  patchMe('weeklyDay 1.5', { weeklyDay: 1.5 }, 400, 'invalid_weekly_day'),
  manageForm('weeklyDay 7', { weeklyDay: '7' }, 400, 'invalid_weekly_day'),
  manageForm('weeklyDay -1', { weeklyDay: '-1' }, 400, 'invalid_weekly_day'),

  // Papers per email.
  subscribeApi('maxPapers 0', { email: newcomer, maxPapers: 0 }, 400, 'invalid_max_papers'),
  subscribeApi('maxPapers 51', { email: newcomer, maxPapers: 51 }, 400, 'invalid_max_papers'),
  patchMe('maxPapers 0', { maxPapers: 0 }, 400, 'invalid_max_papers'),
  patchMe('maxPapers 51', { maxPapers: 51 }, 400, 'invalid_max_papers'),
  patchMe('maxPapers "10"', { maxPapers: '10' }, 400, 'invalid_max_papers'),
  manageForm('maxPapers 0', { maxPapers: '0' }, 400, 'invalid_max_papers'),
  manageForm('maxPapers 51', { maxPapers: '51' }, 400, 'invalid_max_papers'),
  manageForm('maxPapers 1000', { maxPapers: '1000' }, 400, 'invalid_max_papers'),

  // Topics.
  subscribeApi('21 topics', { email: newcomer, topics: topicList(21) }, 400, 'invalid_topics'),
  subscribeApi(
    'a topic of 201 characters',
    { email: newcomer, topics: [tooLongTopic] },
    400,
    'invalid_topics',
  ),
  subscribeApi('an empty topic', { email: newcomer, topics: ['diffusion', ''] }, 400, 'invalid_topics'),
  subscribeApi('a blank topic', { email: newcomer, topics: ['   '] }, 400, 'invalid_topics'),
  subscribeApi('topics as a string', { email: newcomer, topics: 'diffusion' }, 400, 'invalid_topics'),
  subscribeApi('topics as an object', { email: newcomer, topics: { 0: 'diffusion' } }, 400, 'invalid_topics'),
  subscribeApi('a topic that is a number', { email: newcomer, topics: [42] }, 400, 'invalid_topics'),
  subscribeApi('topics null', { email: newcomer, topics: null }, 400, 'invalid_topics'),
  patchMe('21 topics', { topics: topicList(21) }, 400, 'invalid_topics'),
  patchMe('a topic of 201 characters', { topics: [tooLongTopic] }, 400, 'invalid_topics'),
  patchMe('an empty topic', { topics: [''] }, 400, 'invalid_topics'),
  patchMe('topics as a string', { topics: 'diffusion' }, 400, 'invalid_topics'),
  subscribeForm(
    '21 topic lines',
    { email: newcomer, topics: topicList(21).join('\r\n') },
    400,
    'invalid_topics',
  ),
  subscribeForm(
    'a topic line of 201 characters',
    { email: newcomer, topics: tooLongTopic },
    400,
    'invalid_topics',
  ),
  manageForm('21 topic lines', { topics: topicList(21).join('\n') }, 400, 'invalid_topics'),
  manageForm('a topic line of 201 characters', { topics: `ok\n${tooLongTopic}` }, 400, 'invalid_topics'),
];

/** What the HTML pages show for each code: the message names the field (or the body problem). */
const pageMessages: Partial<Record<ErrorCode, RegExp>> = {
  invalid_email: /\bemail: /,
  invalid_topics: /\b(topics|Topic \d+): /,
  invalid_frequency: /\bfrequency: /,
  invalid_weekly_day: /\bweeklyDay: /,
  invalid_timezone: /\btimezone: /,
  invalid_send_hour: /\bsendHour: /,
  invalid_max_papers: /\bmaxPapers: /,
  invalid_body: /Send each field once|could not be read/,
  payload_too_large: /larger than 64 KB/,
};

const isApi = (target: Target) => target.includes(' /api/');

describe('bad input', () => {
  let app: TestApp;
  let owner: Subscriber;
  let manageToken: string;

  beforeAll(async () => {
    // The table posts far more than the per-IP limit allows in a minute.
    app = await startTestApp({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
    owner = await seedSubscriber(app.runtime.db, {
      email: 'owner@example.org',
      topics: ['diffusion models', 'graph neural networks'],
      frequency: 'weekly',
      weeklyDay: 3,
      timezone: 'Europe/Berlin',
      sendHour: 6,
      maxPapers: 12,
    });
    manageToken = app.runtime.ctx.tokens.sign('manage', owner, new Date());
  });
  afterAll(async () => {
    await app.close();
  });

  async function send(target: Target, input: unknown) {
    const [method = '', pattern = ''] = target.split(' ');
    const headers: Record<string, string> = {};
    if (target === 'PATCH /api/me') headers.authorization = `Bearer ${manageToken}`;
    let body: RawBody['body'];
    if (input instanceof RawBody) {
      Object.assign(headers, input.headers);
      body = input.body;
    } else if (isApi(target)) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(input);
    } else {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(input as Record<string, string>).toString();
    }
    const response = await fetch(`${app.url}${pattern.replace(':token', manageToken)}`, {
      method,
      headers,
      body,
      redirect: 'manual',
    });
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      text: await response.text(),
    };
  }

  describe('is rejected with a code naming the problem and changes nothing', () => {
    it.each(badInputs)('$target: $name → $status $code', async ({ target, input, status, code }) => {
      const before = await snapshotDb(app.runtime.db);

      const response = await send(target, input);

      expect(response.status).toBe(status);
      if (isApi(target)) {
        expect(response.contentType).toMatch(/^application\/json/);
        expect(JSON.parse(response.text)).toMatchObject({ error: { code, message: expect.any(String) } });
      } else {
        expect(response.contentType).toMatch(/^text\/html/);
        expect(response.text).toMatch(pageMessages[code] ?? /$^/);
      }
      expect(await snapshotDb(app.runtime.db)).toEqual(before);
      expect(app.smtp.received.map((mail) => mail.envelopeTo)).toEqual([]);
    });

    it('sends no email for any rejected request, even after the queue has had time to run', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(app.smtp.received.map((mail) => mail.envelopeTo)).toEqual([]);
    });
  });

  describe('accepts the boundary values', () => {
    const subscriberView = async (email: string) => {
      const row = await app.runtime.db.get<{ id: number; tokenSalt: string }>(
        sql`select id, token_salt as "tokenSalt" from subscribers where email = ${email}`,
      );
      expect(row, `no subscriber stored as ${email}`).toBeDefined();
      const token = app.runtime.ctx.tokens.sign(
        'manage',
        row as { id: number; tokenSalt: string },
        new Date(),
      );
      return (await api(app, '/api/me', { token })).json;
    };
    const exactTopic = 'quantization '.repeat(16).slice(0, 200);
    const twentyTopics = topicList(20);

    it.each([
      { name: 'sendHour 0', fields: { sendHour: 0 } },
      { name: 'sendHour 23', fields: { sendHour: 23 } },
      { name: 'weeklyDay 0 (Sunday)', fields: { frequency: 'weekly', weeklyDay: 0 } },
      { name: 'weeklyDay 6 (Saturday)', fields: { frequency: 'weekly', weeklyDay: 6 } },
      { name: 'maxPapers 1', fields: { maxPapers: 1 } },
      { name: 'maxPapers 50', fields: { maxPapers: 50 } },
      { name: 'exactly 20 topics', fields: { topics: twentyTopics } },
      { name: 'a topic of exactly 200 characters', fields: { topics: [exactTopic] } },
      { name: 'no topics', fields: { topics: [] } },
    ])('POST /api/subscriptions stores $name', async ({ name, fields }) => {
      const email = `boundary-${name.replace(/\W+/g, '-').toLowerCase()}@example.org`;
      const response = await api(app, '/api/subscriptions', { body: { email, ...fields } });
      expect(response.status).toBe(202);
      expect(await subscriberView(email)).toMatchObject({ email, status: 'pending', ...fields });
    });

    it('POST /api/subscriptions stores an address of exactly 254 characters', async () => {
      const email = addressOfLength(254);
      expect(email).toHaveLength(254);
      expect((await api(app, '/api/subscriptions', { body: { email } })).status).toBe(202);
      expect(await subscriberView(email)).toMatchObject({ email });
    });

    it('POST /api/subscriptions stores an internationalized domain as punycode', async () => {
      expect((await api(app, '/api/subscriptions', { body: { email: 'a@bücher.de' } })).status).toBe(202);
      expect(await subscriberView('a@xn--bcher-kva.de')).toMatchObject({ email: 'a@xn--bcher-kva.de' });
    });

    it('POST /subscribe stores an internationalized domain and a 254-character address', async () => {
      const long = addressOfLength(254).replace(/^a/, 'f');
      for (const email of ['form@bücher.de', long]) {
        const response = await send('POST /subscribe', { email, topics: 'diffusion models' });
        expect(response.status).toBe(202);
      }
      expect(await subscriberView('form@xn--bcher-kva.de')).toMatchObject({ topics: ['diffusion models'] });
      expect(await subscriberView(long)).toMatchObject({ email: long });
    });

    it.each([
      { name: 'sendHour 0', fields: { sendHour: 0 } },
      { name: 'sendHour 23', fields: { sendHour: 23 } },
      { name: 'weeklyDay 0', fields: { weeklyDay: 0 } },
      { name: 'weeklyDay 6', fields: { weeklyDay: 6 } },
      { name: 'maxPapers 1', fields: { maxPapers: 1 } },
      { name: 'maxPapers 50', fields: { maxPapers: 50 } },
      { name: 'exactly 20 topics', fields: { topics: twentyTopics } },
      { name: 'a topic of exactly 200 characters', fields: { topics: [exactTopic] } },
    ])('PATCH /api/me saves $name', async ({ fields }) => {
      const response = await api(app, '/api/me', { method: 'PATCH', token: manageToken, body: fields });
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject(fields);
      expect((await api(app, '/api/me', { token: manageToken })).json).toMatchObject(fields);
    });

    it.each([
      {
        name: 'sendHour 0, weeklyDay 0, maxPapers 1',
        form: { sendHour: '0', weeklyDay: '0', maxPapers: '1' },
      },
      {
        name: 'sendHour 23, weeklyDay 6, maxPapers 50',
        form: { sendHour: '23', weeklyDay: '6', maxPapers: '50' },
      },
    ])('POST /manage/:token saves $name and 20 topic lines', async ({ form }) => {
      const response = await send('POST /manage/:token', {
        action: 'save',
        topics: twentyTopics.join('\r\n'),
        ...form,
      });
      expect(response.status).toBe(200);
      expect((await api(app, '/api/me', { token: manageToken })).json).toMatchObject({
        topics: twentyTopics,
        sendHour: Number(form.sendHour),
        weeklyDay: Number(form.weeklyDay),
        maxPapers: Number(form.maxPapers),
      });
    });
  });
});
