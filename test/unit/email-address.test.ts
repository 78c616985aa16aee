import { describe, expect, it } from 'vitest';
import { mailboxKey, normalizeEmail } from '../../src/subscribers/email-address.js';

describe('normalizeEmail', () => {
  it.each([
    ['Ada@Example.ORG', 'ada@example.org'],
    ["o'brien+papers@lab.example.co.uk", "o'brien+papers@lab.example.co.uk"],
    ['a@bücher.de', 'a@xn--bcher-kva.de'],
    // IDNA mappings stay: full-width letters, the ideographic full stop, a soft hyphen.
    ['a@ｅｘａｍｐｌｅ.org', 'a@example.org'],
    ['a@example。org', 'a@example.org'],
    ['a@exa\u00admple.org', 'a@example.org'],
    [`${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.org`, undefined],
  ])('accepts %s', (input, expected) => {
    const result = normalizeEmail(input);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.email).toBe(expected ?? input.toLowerCase());
  });

  it.each([
    '',
    'plain',
    '@example.org',
    'a@',
    'a@@example.org',
    'a b@example.org',
    'a@example',
    'a@example.',
    'a@-example.org',
    'a@[127.0.0.1]',
    '"quoted"@example.org',
    'a..b@example.org',
    '.a@example.org',
    'a@example.org\r\nBcc: victim@example.org',
    'a\u0000@example.org',
    'ünïcode@example.org',
    'a<b>@example.org',
    'a,b@example.org',
    `${'a'.repeat(65)}@example.org`,
    `a@${'b'.repeat(250)}.org`,
    // A URL host parser would drop everything from these on and keep `example.com`.
    'user@example.com?subject=hi',
    'user@example.com/x',
    'user@example.com#x',
    'user@example.com:25',
    'user@exa_mple.com',
    'user@ex\uff0fample.com', // a full-width solidus maps to "/"
  ])('rejects %j', (input) => {
    expect(normalizeEmail(input).ok).toBe(false);
  });
});

describe('mailboxKey', () => {
  it.each([
    ['victim+1@example.org', 'victim@example.org'],
    ['victim+a+b@example.org', 'victim@example.org'],
    ['+only@example.org', '+only@example.org'],
    ['some.body@gmail.com', 'somebody@gmail.com'],
    ['so.me.body+tag@googlemail.com', 'somebody@gmail.com'],
    ['some.body@example.org', 'some.body@example.org'],
  ])('%s is the mailbox %s', (email, mailbox) => {
    expect(mailboxKey(email)).toBe(mailbox);
  });
});
