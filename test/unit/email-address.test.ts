import { describe, expect, it } from 'vitest';
import { normalizeEmail } from '../../src/subscribers/email-address.js';

describe('normalizeEmail', () => {
  it.each([
    ['Ada@Example.ORG', 'ada@example.org'],
    ["o'brien+papers@lab.example.co.uk", "o'brien+papers@lab.example.co.uk"],
    ['a@bücher.de', 'a@xn--bcher-kva.de'],
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
  ])('rejects %j', (input) => {
    expect(normalizeEmail(input).ok).toBe(false);
  });
});
