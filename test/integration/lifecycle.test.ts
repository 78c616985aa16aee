import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../src/db/sql.js';
import { api, postForm, startTestApp, type TestApp } from '../support/app.js';
import { flat } from '../support/digest.js';
import { linkIn, pathOf } from '../support/smtp-sink.js';

describe('subscription lifecycle over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('subscribes, confirms from the email, changes preferences and unsubscribes in one click', async () => {
    const email = 'ada@example.org';
    const subscribed = await api(app, '/api/subscriptions', {
      body: {
        email: 'Ada@Example.org',
        topics: ['diffusion models', 'cat:cs.LG quantization -survey'],
        sendHour: 8,
      },
    });
    expect(subscribed.status).toBe(202);
    expect(subscribed.json).toEqual({ status: 'pending_confirmation' });

    const [confirmation] = await app.smtp.waitFor((mail) => mail.length >= 1);
    if (!confirmation) throw new Error('no confirmation email');
    expect(confirmation.envelopeTo).toEqual([email]);
    expect(confirmation.parsed.subject).toBe('Confirm your paperboy subscription');
    expect(confirmation.parsed.html).toContain('Confirm subscription');
    expect(confirmation.parsed.text).toContain('diffusion models');
    const confirmPath = pathOf(linkIn(confirmation, app.config.http.publicUrl));
    expect(confirmPath).toMatch(/^\/confirm\//);

    // The link opens a page with a button; only the POST confirms.
    const page = await fetch(`${app.url}${confirmPath}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Confirm subscription');
    const confirmed = await fetch(`${app.url}${confirmPath}`, { method: 'POST' });
    expect(confirmed.status).toBe(200);
    const confirmedHtml = await confirmed.text();
    expect(confirmedHtml).toContain('You are subscribed');
    // The manage link comes by email, not on the page (whoever holds the confirm link sees the page).
    expect(confirmedHtml).not.toContain('/manage/');
    const [, welcome] = await app.smtp.waitFor((mail) => mail.length >= 2);
    if (!welcome) throw new Error('no welcome email');
    expect(welcome.envelopeTo).toEqual([email]);
    expect(welcome.parsed.subject).toBe('You are subscribed to paperboy');
    expect(flat(welcome.parsed.text ?? '')).toContain('daily at 08:00 (UTC), up to 10 papers');
    const manageToken = /\/manage\/([^\s"]+)/.exec(
      linkIn(welcome, `${app.config.http.publicUrl}/manage/`),
    )?.[1];
    expect(manageToken).toBeTruthy();

    const me = await api(app, '/api/me', { token: manageToken });
    expect(me.status).toBe(200);
    expect(me.json).toEqual({
      email,
      status: 'active',
      topics: ['diffusion models', 'cat:cs.LG quantization -survey'],
      frequency: 'daily',
      weeklyDay: 1,
      timezone: 'UTC',
      sendHour: 8,
      maxPapers: 10,
      delivery: 'email',
      feedUrl: expect.stringMatching(/\/feeds\/r[\w.-]+\.atom$/),
      feedback: [],
      likedPapers: [],
    });

    // The bearer scheme is case-insensitive.
    expect((await api(app, '/api/me', { headers: { authorization: `bearer ${manageToken}` } })).status).toBe(
      200,
    );

    const patched = await api(app, '/api/me', {
      method: 'PATCH',
      token: manageToken,
      body: {
        frequency: 'weekly',
        weeklyDay: 5,
        timezone: 'america/new_york',
        topics: ['graph neural networks'],
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      frequency: 'weekly',
      weeklyDay: 5,
      timezone: 'America/New_York',
      topics: ['graph neural networks'],
    });

    // The manage page form saves too (no JavaScript involved).
    const saved = await postForm(app, `/manage/${manageToken}`, {
      action: 'save',
      topics: 'graph neural networks\r\n\r\n"knowledge distillation"\r\n',
      frequency: 'daily',
      weeklyDay: '5',
      timezone: 'Europe/Berlin',
      sendHour: '6',
      maxPapers: '25',
    });
    expect(saved.status).toBe(200);
    expect(await saved.text()).toContain('Saved.');
    expect((await api(app, '/api/me', { token: manageToken })).json).toMatchObject({
      topics: ['graph neural networks', '"knowledge distillation"'],
      frequency: 'daily',
      timezone: 'Europe/Berlin',
      sendHour: 6,
      maxPapers: 25,
    });

    // RFC 8058 one-click: an unauthenticated POST with exactly this body, answered 200 without a redirect.
    const subject = await app.runtime.db.get<{ id: number; tokenSalt: string }>(
      sql`select id, token_salt as "tokenSalt" from subscribers where email = ${email}`,
    );
    if (!subject) throw new Error('no subscriber row');
    const unsubscribeToken = app.runtime.ctx.tokens.sign('unsubscribe', subject, new Date());
    const oneClick = await fetch(`${app.url}/unsubscribe/${unsubscribeToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
    });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.text()).toContain('You are unsubscribed');
    expect((await api(app, '/api/me', { token: manageToken })).json).toMatchObject({
      status: 'unsubscribed',
    });

    // Idempotent: a second one-click changes nothing and still answers 200.
    const again = await fetch(`${app.url}/unsubscribe/${unsubscribeToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
    });
    expect(again.status).toBe(200);

    const events = await app.runtime.db.all<{ type: string; source: string }>(
      sql`select type, source from subscriber_events order by id`,
    );
    expect(events).toEqual([
      { type: 'subscribed', source: 'api' },
      { type: 'confirmed', source: 'link' },
      { type: 'preferences_changed', source: 'api' },
      { type: 'preferences_changed', source: 'manage' },
      { type: 'unsubscribed', source: 'one-click' },
    ]);

    const exported = await api(app, '/api/me/export', { token: manageToken });
    expect(exported.status).toBe(200);
    expect(exported.json.events).toHaveLength(5);

    const deleted = await api(app, '/api/me', { method: 'DELETE', token: manageToken });
    expect(deleted.status).toBe(204);
    expect((await api(app, '/api/me', { token: manageToken })).status).toBe(401);
    expect((await fetch(`${app.url}/unsubscribe/${unsubscribeToken}`)).status).toBe(404);
    expect(await app.runtime.db.get(sql`select count(*) as n from subscriber_events`)).toEqual({ n: 0 });
  });
});
