import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscriber } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import { storedDigestPicks } from '../../src/digests/paper-rows.js';
import { api, postForm, startTestApp, type TestApp } from '../support/app.js';
import { snapshotDb } from '../support/db.js';
import { cardsOf, hrefsOf, seedSamplePapers, sendDigestTo, textBlocksOf } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { linkIn, pathOf, type ReceivedMail } from '../support/smtp-sink.js';

const publicUrl = 'https://papers.example.org';
const quietSchedules = { DIGEST_TICK_CRON: '0 0 1 1 *', INGEST_CRON: '0 0 1 1 *' };
const feedbackLink = new RegExp(`${publicUrl.replaceAll('.', '\\.')}/feedback/[A-Za-z0-9._-]+`, 'g');

describe('"more / less like this" from a digest', () => {
  const email = 'reader@example.org';
  let app: TestApp;
  let subscriber: Subscriber;
  let mail: ReceivedMail;
  let digestId: number;
  let manageToken: string;
  /** Per card, in order: its paper and its two links as the email has them. */
  let cards: { arxivId: string; title: string; more: string; less: string }[];

  const feedbackRows = () =>
    app.runtime.db.all<{ paperId: number; value: number; digestId: number | null }>(
      sql`select paper_id as "paperId", value, digest_id as "digestId" from paper_feedback
        where subscriber_id = ${subscriber.id} order by paper_id`,
    );
  const get = (link: string) => fetch(`${app.url}${pathOf(link)}`, { redirect: 'manual' });
  const post = (link: string, fields: Record<string, string> = {}) => postForm(app, pathOf(link), fields);

  beforeAll(async () => {
    // Many clicks from one address in a minute: more than the default write limit allows.
    app = await startTestApp({
      env: { PUBLIC_URL: publicUrl, RATE_LIMIT_PER_MINUTE: '1000', ...quietSchedules },
    });
    await seedSamplePapers(app.runtime.db);
    subscriber = await seedSubscriber(app.runtime.db, { email, topics: ['diffusion'], maxPapers: 4 });
    ({ mail, digestId } = await sendDigestTo(app, email));
    manageToken = pathOf(linkIn(mail, `${publicUrl}/manage/`)).replace('/manage/', '');
    const picks = await storedDigestPicks(app.runtime.db, digestId);
    const html = mail.parsed.html || '';
    cards = cardsOf(html).map((card, i) => {
      const links = hrefsOf(card).filter((href) => href.includes('/feedback/'));
      const paper = (picks[i] as (typeof picks)[number]).paper;
      return { arxivId: paper.arxivId, title: paper.title, more: links[0] ?? '', less: links[1] ?? '' };
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('gives every card of the email its own two links, in the HTML and in the text', () => {
    expect(cards).toHaveLength(4);
    const html = mail.parsed.html || '';
    const text = mail.parsed.text ?? '';
    const links = cards.flatMap((card) => [card.more, card.less]);
    expect(new Set(links).size).toBe(8);
    for (const link of links) expect(link).toMatch(new RegExp(`^${feedbackLink.source}$`));
    // Each link names its paper for a screen reader, and the text part carries the same links.
    for (const card of cards) {
      expect(html).toContain(`href="${card.more}" aria-label="More like this: `);
      expect(html).toContain(`href="${card.less}" aria-label="Less like this: `);
    }
    const blocks = textBlocksOf(text).map((block) => block.replace(/\n {3}(?=https:)/g, ' '));
    expect(blocks.map((block) => [...block.matchAll(feedbackLink)].map((match) => match[0]))).toEqual(
      cards.map((card) => [card.more, card.less]),
    );
    expect(blocks[0]).toMatch(/More like this: https:/);
  });

  it('leaves them out of the web version, which is meant to be shared', async () => {
    const web = await get(linkIn(mail, `${publicUrl}/digests/`));
    expect(web.status).toBe(200);
    expect(await web.text()).not.toContain('/feedback/');
  });

  it('changes nothing when every link of the email is opened with GET, as link scanners do', async () => {
    const before = await snapshotDb(app.runtime.db);
    const text = mail.parsed.text ?? '';
    const ours = new Set(
      [...hrefsOf(mail.parsed.html || ''), ...(text.match(/https:\/\/\S+/g) ?? [])].filter((link) =>
        link.startsWith(publicUrl),
      ),
    );
    expect(ours.size).toBeGreaterThanOrEqual(8 + 3); // the feedback links, web version, manage, unsubscribe
    for (const link of ours) {
      const response = await get(link);
      expect({ link, status: response.status }).toEqual({ link, status: 200 });
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    expect(await snapshotDb(app.runtime.db)).toEqual(before);
  });

  it('shows one button; pressing it records the click, says what changes, and undo takes it back', async () => {
    const [card] = cards;
    if (!card) throw new Error('no card');
    const page = await (await get(card.more)).text();
    expect(page).toContain('More like this?');
    expect(page).toContain(card.title.replaceAll('&', '&amp;').slice(0, 30));
    expect(page).toMatch(
      /<form method="post" action="\/feedback\/[^"]+"><button type="submit">More like this</,
    );

    const given = await post(card.more);
    expect(given.status).toBe(200);
    const answer = await given.text();
    expect(answer).toContain('Noted: more like this');
    expect(answer).toContain('will rank higher in your digests, among the papers your topics match');
    const paperId = (await storedDigestPicks(app.runtime.db, digestId))[0]?.paper.id;
    expect(await feedbackRows()).toEqual([{ paperId, value: 1, digestId }]);
    // Pressing again, or opening the link again, changes nothing more.
    expect((await post(card.more)).status).toBe(200);
    expect(await (await get(card.more)).text()).toContain('You already said this about this paper.');
    expect(await feedbackRows()).toEqual([{ paperId, value: 1, digestId }]);

    // "Less" on the same paper replaces "more": one entry per paper, the latest.
    expect(await (await post(card.less)).text()).toContain('Noted: less like this');
    expect(await feedbackRows()).toEqual([{ paperId, value: -1, digestId }]);

    const undone = await post(card.less, { action: 'undo' });
    expect(await undone.text()).toContain('Feedback taken back');
    expect(await feedbackRows()).toEqual([]);
  });

  it('answers 404 to forged, altered or misused links, and 400 to a bad form, changing nothing', async () => {
    const [card] = cards;
    if (!card) throw new Error('no card');
    const before = await snapshotDb(app.runtime.db);
    const token = card.more.split('/feedback/')[1] as string;
    const [head, expiry, detail, signature] = token.split('.') as [string, string, string, string];
    const flip = (text: string) => `${text.slice(0, -1)}${text.endsWith('A') ? 'B' : 'A'}`;
    const digestToken = pathOf(linkIn(mail, `${publicUrl}/digests/`)).replace('/digests/', '');
    const unsubscribeToken = pathOf(linkIn(mail, `${publicUrl}/unsubscribe/`)).replace('/unsubscribe/', '');
    const bad = [
      `${head}.${expiry}.${detail}.${flip(signature)}`, // forged signature
      `${head}.${expiry}.${detail.replace(/m$/, 'l')}.${signature}`, // "more" turned into "less"
      `${head}.${expiry}.1${detail}.${signature}`, // another paper
      `${head}.${expiry}.${signature}`, // no detail
      `${head}.${expiry}.${detail}.${detail}.${signature}`,
      `${flip(head)}.${expiry}.${detail}.${signature}`, // another digest
      digestToken,
      unsubscribeToken,
      `d${token.slice(1)}`,
      'x'.repeat(5000),
      '%00',
      '..%2F..%2Fapi%2Fme',
    ];
    for (const forged of bad) {
      const opened = await fetch(`${app.url}/feedback/${forged}`);
      const pressed = await fetch(`${app.url}/feedback/${forged}`, { method: 'POST' });
      expect({ forged, get: opened.status, post: pressed.status }).toEqual({ forged, get: 404, post: 404 });
    }
    // A token for a place past the digest's picks is genuine but names no paper.
    const pastTheEnd = app.runtime.ctx.tokens.signer(
      'feedback',
      { id: digestId, tokenSalt: subscriber.tokenSalt },
      new Date(),
    )('zzm');
    expect((await fetch(`${app.url}/feedback/${pastTheEnd}`)).status).toBe(404);

    expect((await post(card.more, { action: 'delete' })).status).toBe(400);
    const repeated = await fetch(`${app.url}${pathOf(card.more)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=undo&action=undo',
    });
    expect(repeated.status).toBe(400);
    const crossSite = await fetch(`${app.url}${pathOf(card.more)}`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(crossSite.status).toBe(403);
    expect(await snapshotDb(app.runtime.db)).toEqual(before);
  });

  it('lists feedback on the manage page, in /api/me and the export, and undoes one or all of it', async () => {
    const [first, second, third] = cards as [(typeof cards)[0], (typeof cards)[0], (typeof cards)[0]];
    await post(first.more);
    await post(second.less);
    await post(third.more);
    const me = await api(app, '/api/me', { token: manageToken });
    expect(
      (me.json.feedback as { arxivId: string; kind: string }[]).map(({ arxivId, kind }) => ({
        arxivId,
        kind,
      })),
    ).toEqual([
      { arxivId: third.arxivId, kind: 'more' },
      { arxivId: second.arxivId, kind: 'less' },
      { arxivId: first.arxivId, kind: 'more' },
    ]);
    const exported = await api(app, '/api/me/export', { token: manageToken });
    expect((exported.json.subscriber as { feedback: unknown[] }).feedback).toHaveLength(3);

    const page = await (await fetch(`${app.url}/manage/${manageToken}`)).text();
    expect(page).toContain('Your feedback');
    expect(page).toContain(`name="arxivId" value="${second.arxivId}"`);
    const undone = await postForm(app, `/manage/${manageToken}`, {
      action: 'undo-feedback',
      arxivId: second.arxivId,
    });
    expect(await undone.text()).toContain('Feedback taken back.');
    expect((await feedbackRows()).map((row) => row.value)).toEqual([1, 1]);
    expect(
      await (
        await postForm(app, `/manage/${manageToken}`, { action: 'undo-feedback', arxivId: '9999.99999' })
      ).text(),
    ).toContain('There was no feedback on that paper.');

    expect(
      (await api(app, `/api/me/feedback/${first.arxivId}`, { method: 'DELETE', token: manageToken })).status,
    ).toBe(204);
    expect(await feedbackRows()).toHaveLength(1);
    const cleared = await postForm(app, `/manage/${manageToken}`, { action: 'clear-feedback' });
    expect(await cleared.text()).toContain('All your feedback is cleared.');
    expect(await feedbackRows()).toEqual([]);
    expect((await api(app, '/api/me/feedback', { method: 'DELETE', token: manageToken })).status).toBe(204);
    expect((await api(app, '/api/me/feedback', { method: 'DELETE' })).status).toBe(401);
  });

  it('is erased with the subscriber, and their links die', async () => {
    const [card] = cards;
    if (!card) throw new Error('no card');
    await post(card.more);
    expect(await feedbackRows()).toHaveLength(1);
    expect((await api(app, '/api/me', { method: 'DELETE', token: manageToken })).status).toBe(204);
    expect(
      await app.runtime.db.value(
        sql`select count(*) from paper_feedback where subscriber_id = ${subscriber.id}`,
      ),
    ).toBe(0);
    expect((await get(card.more)).status).toBe(404);
  });
});
