import { describe, expect, it } from 'vitest';
import { createTokens, newTokenSalt } from '../../src/subscribers/tokens.js';

const tokens = createTokens('unit-test-secret-key-0123456789abcdef');
const subject = { id: 42, tokenSalt: newTokenSalt() };
const now = new Date('2026-03-01T12:00:00Z');
const days = (n: number) => new Date(now.getTime() + n * 86_400_000);

describe('link tokens', () => {
  it('verify for their own purpose and subscriber only', () => {
    const manage = tokens.sign('manage', subject, now);
    expect(tokens.verify(manage, 'manage', subject, now)).toBe(true);
    expect(tokens.verify(manage, 'unsubscribe', subject, now)).toBe(false);
    expect(tokens.verify(manage, 'manage', { ...subject, id: 43 }, now)).toBe(false);
    expect(tokens.verify(manage, 'manage', { ...subject, tokenSalt: newTokenSalt() }, now)).toBe(false);
    expect(tokens.peek(manage, 'manage')).toBe(42);
    expect(tokens.peek(manage, 'confirm')).toBeUndefined();
  });

  it('confirm tokens expire after 7 days; manage and unsubscribe never do', () => {
    const confirm = tokens.sign('confirm', subject, now);
    expect(tokens.verify(confirm, 'confirm', subject, days(6.9))).toBe(true);
    expect(tokens.verify(confirm, 'confirm', subject, days(7.01))).toBe(false);
    const unsubscribe = tokens.sign('unsubscribe', subject, now);
    expect(tokens.verify(unsubscribe, 'unsubscribe', subject, days(3650))).toBe(true);
  });

  it('reject every single-character alteration', () => {
    const token = tokens.sign('unsubscribe', subject, now);
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.';
    for (let i = 0; i < token.length; i++) {
      for (const char of alphabet) {
        if (char === token[i]) continue;
        const altered = token.slice(0, i) + char + token.slice(i + 1);
        expect(tokens.verify(altered, 'unsubscribe', subject, now), altered).toBe(false);
      }
    }
  });

  it('reject garbage without throwing', () => {
    for (const garbage of [
      '',
      'x',
      'a'.repeat(5000),
      'u1.0.',
      '../../etc/passwd',
      'u1.0.%00%00%00',
      'ü'.repeat(30),
    ]) {
      expect(tokens.peek(garbage, 'unsubscribe')).toBeUndefined();
      expect(tokens.verify(garbage, 'unsubscribe', subject, now)).toBe(false);
    }
  });

  it('differ between secrets', () => {
    const other = createTokens('another-secret-key-0123456789abcdefgh');
    expect(other.verify(tokens.sign('manage', subject, now), 'manage', subject, now)).toBe(false);
  });
});
