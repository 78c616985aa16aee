import { createHmac, hkdfSync } from 'node:crypto';
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

  it('confirm tokens expire after 7 days, manage tokens after 90; unsubscribe tokens never do', () => {
    const confirm = tokens.sign('confirm', subject, now);
    expect(tokens.verify(confirm, 'confirm', subject, days(6.9))).toBe(true);
    expect(tokens.verify(confirm, 'confirm', subject, days(7.01))).toBe(false);
    const manage = tokens.sign('manage', subject, now);
    expect(tokens.verify(manage, 'manage', subject, days(89.9))).toBe(true);
    expect(tokens.verify(manage, 'manage', subject, days(90.01))).toBe(false);
    const unsubscribe = tokens.sign('unsubscribe', subject, now);
    expect(tokens.verify(unsubscribe, 'unsubscribe', subject, days(3650))).toBe(true);
  });

  it('do not show the row id: consecutive ids give unrelated tokens', () => {
    const salt = newTokenSalt();
    const signed = [1, 2, 3, 1000].map((id) => tokens.sign('unsubscribe', { id, tokenSalt: salt }, now));
    for (const [i, token] of signed.entries()) {
      expect(token).not.toMatch(/^u[0-9a-z]{1,4}\./);
      expect(tokens.peek(token, 'unsubscribe')).toBe([1, 2, 3, 1000][i]);
    }
    const idParts = signed.map((token) => token.slice(1, token.indexOf('.')));
    expect(new Set(idParts).size).toBe(4);
    // Nothing in common at the front, as a counter would have.
    expect(new Set(idParts.map((part) => part.slice(0, 3))).size).toBe(4);
  });

  it('still honour unsubscribe and web-version links mailed in the old format, and no others', () => {
    const secret = 'unit-test-secret-key-0123456789abcdef';
    const key = Buffer.from(hkdfSync('sha256', secret, 'paperboy', 'link-token-v1', 32));
    const legacy = (letter: string, expiry: string) => {
      const id = subject.id.toString(36);
      const mac = createHmac('sha256', key)
        .update(`${letter}|${id}|${expiry}|${subject.tokenSalt}`)
        .digest()
        .subarray(0, 16)
        .toString('base64url');
      return `${letter}${id}.${expiry}.${mac}`;
    };
    expect(tokens.verify(legacy('u', '0'), 'unsubscribe', subject, days(400))).toBe(true);
    expect(tokens.verify(legacy('d', '0'), 'digest', subject, now)).toBe(true);
    // Old manage links never expired and may have leaked; old confirm links named no request.
    expect(tokens.verify(legacy('m', '0'), 'manage', subject, now)).toBe(false);
    expect(tokens.peek(legacy('m', '0'), 'manage')).toBeUndefined();
    expect(
      tokens.verify(legacy('c', (now.getTime() / 1000 + 3600).toString(36)), 'confirm', subject, now),
    ).toBe(false);
  });

  it('name things opaquely and stably', () => {
    expect(tokens.opaque('digest:1')).toBe(tokens.opaque('digest:1'));
    expect(tokens.opaque('digest:1')).not.toBe(tokens.opaque('digest:2'));
    expect(tokens.opaque('digest:1')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(createTokens('another-secret-key-0123456789abcdefgh').opaque('digest:1')).not.toBe(
      tokens.opaque('digest:1'),
    );
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
      'uAAAAAAAAAAAAAAAAAAAAAA.0.AAAAAAAAAAAAAAAAAAAAAA',
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

  it('sign a feedback detail with the id: altering it, leaving it out or adding one breaks the token', () => {
    const sign = tokens.signer('feedback', subject, now);
    const more = sign('3m');
    const less = sign('3l');
    expect(tokens.verify(more, 'feedback', subject, days(3650))).toBe(true);
    expect(tokens.peek(more, 'feedback')).toBe(42);
    expect(tokens.peekDetail(more, 'feedback')).toBe('3m');
    expect(tokens.peekDetail(less, 'feedback')).toBe('3l');
    // One sealed id for both links of a digest; the signatures differ.
    expect(more.split('.')[0]).toBe(less.split('.')[0]);
    const [head, expiry, , signature] = more.split('.');
    expect(tokens.verify(`${head}.${expiry}.3l.${signature}`, 'feedback', subject, now)).toBe(false);
    expect(tokens.verify(`${head}.${expiry}.4m.${signature}`, 'feedback', subject, now)).toBe(false);
    expect(tokens.verify(`${head}.${expiry}.${signature}`, 'feedback', subject, now)).toBe(false);
    expect(tokens.verify(more, 'feedback', { ...subject, tokenSalt: newTokenSalt() }, now)).toBe(false);
    // Other purposes take no detail, and a feedback token is nothing else.
    const digest = tokens.sign('digest', subject, now);
    const [dHead, dExpiry, dSignature] = digest.split('.');
    expect(tokens.peek(`${dHead}.${dExpiry}.3m.${dSignature}`, 'digest')).toBeUndefined();
    expect(tokens.peek(more, 'digest')).toBeUndefined();
    expect(tokens.peek(`d${more.slice(1)}`, 'digest')).toBeUndefined();
    expect(tokens.peek(digest, 'feedback')).toBeUndefined();
    // Only the shape a feedback detail has: a place in base 36, then m or l.
    for (const detail of ['', 'm', '3x', '3M', '12345m', '3m.', '../m']) {
      expect(() => sign(detail), detail).toThrow();
    }
    expect(() => tokens.sign('feedback', subject, now)).toThrow();
    expect(() => tokens.signer('digest', subject, now)('3m')).toThrow();
  });
});
