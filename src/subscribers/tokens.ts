import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Opaque link tokens: `<purpose><id>.<expiry>.<signature>`, HMAC-SHA256 over the purpose, the
 * subscriber id, the expiry and the subscriber's own salt. The salt ties a token to one row: a
 * deleted subscriber's links die even if SQLite ever hands its id to someone else.
 */
export const tokenPurposes = { confirm: 'c', manage: 'm', unsubscribe: 'u', digest: 'd' } as const;
export type TokenPurpose = keyof typeof tokenPurposes;

const lifetimes: Record<TokenPurpose, number | undefined> = {
  confirm: 7 * 24 * 60 * 60 * 1000,
  manage: undefined,
  unsubscribe: undefined,
  digest: undefined,
};

const tokenShape = /^([cmud])([0-9a-z]{1,11})\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})$/;

export interface TokenSubject {
  id: number;
  tokenSalt: string;
}

export interface Tokens {
  sign(purpose: TokenPurpose, subject: TokenSubject, now: Date): string;
  /** The subscriber id the token names, if its shape and purpose fit; the signature is not checked yet. */
  peek(token: string, purpose: TokenPurpose): number | undefined;
  verify(token: string, purpose: TokenPurpose, subject: TokenSubject | undefined, now: Date): boolean;
}

export const newTokenSalt = () => randomBytes(16).toString('base64url');

export function createTokens(secretKey: string): Tokens {
  const key = Buffer.from(hkdfSync('sha256', secretKey, 'paperboy', 'link-token-v1', 32));
  const signature = (purpose: string, id: string, expiry: string, salt: string) =>
    createHmac('sha256', key).update(`${purpose}|${id}|${expiry}|${salt}`).digest().subarray(0, 16);

  return {
    sign(purpose, subject, now) {
      const lifetime = lifetimes[purpose];
      const expiry = lifetime === undefined ? '0' : Math.ceil((now.getTime() + lifetime) / 1000).toString(36);
      const id = subject.id.toString(36);
      const letter = tokenPurposes[purpose];
      return `${letter}${id}.${expiry}.${signature(letter, id, expiry, subject.tokenSalt).toString('base64url')}`;
    },
    peek(token, purpose) {
      const match = tokenShape.exec(token);
      if (!match || match[1] !== tokenPurposes[purpose]) return undefined;
      const id = Number.parseInt(match[2] ?? '', 36);
      return Number.isSafeInteger(id) && id > 0 ? id : undefined;
    },
    verify(token, purpose, subject, now) {
      const match = tokenShape.exec(token);
      if (!match || !subject) return false;
      const [, letter = '', id = '', expiry = '', mac = ''] = match;
      if (letter !== tokenPurposes[purpose] || Number.parseInt(id, 36) !== subject.id) return false;
      // Compare the text, not decoded bytes: base64 ignores the low bits of the last character.
      const expected = signature(letter, id, expiry, subject.tokenSalt).toString('base64url');
      const isSignatureValid = timingSafeEqual(Buffer.from(mac), Buffer.from(expected));
      const expiresAt = Number.parseInt(expiry, 36) * 1000;
      return isSignatureValid && (expiresAt === 0 || now.getTime() < expiresAt);
    },
  };
}
