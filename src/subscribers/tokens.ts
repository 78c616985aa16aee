import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/**
 * Opaque link tokens: `<purpose><sealed id>.<expiry>.<signature>`. The row id is sealed (AES over one
 * block holding the id and the purpose), so a link says nothing about how many rows exist; the
 * signature is HMAC-SHA256 over the purpose, the sealed id, the expiry and the subscriber's own salt.
 * The salt ties a token to one row: a deleted subscriber's links die even if an id is reused.
 * A feedback token also carries a short signed detail, `<purpose><sealed id>.<expiry>.<detail>.<signature>`:
 * which of the digest's papers, and more or less (see `feedbackDetail`).
 */
export const tokenPurposes = {
  confirm: 'c',
  manage: 'm',
  unsubscribe: 'u',
  digest: 'd',
  feedback: 'f',
  feed: 'r',
} as const;
export type TokenPurpose = keyof typeof tokenPurposes;

const day = 24 * 60 * 60 * 1000;
/**
 * Unsubscribe links must work as long as the emails that carry them (and for digests' web versions
 * there is nothing to protect), so they never expire. A manage link in a forwarded email is a key to
 * someone's preferences: it lasts 90 days, and every digest carries a fresh one.
 */
const lifetimes: Record<TokenPurpose, number | undefined> = {
  confirm: 7 * day,
  manage: 90 * day,
  unsubscribe: undefined,
  digest: undefined,
  // A reader may act on an old digest as well as on today's; the salt still ties it to the reader.
  feedback: undefined,
  // A feed reader keeps its address for years; the salt still ties it to the reader.
  feed: undefined,
};

/** The purposes whose tokens carry a detail, and the shape it must have. */
const detailShapes: Partial<Record<TokenPurpose, RegExp>> = { feedback: /^[0-9a-z]{1,3}[ml]$/ };

/** A detail of the shape its purpose takes, or none for a purpose that takes none. */
const fitsDetail = (purpose: TokenPurpose, detail: string | undefined) => {
  const shape = detailShapes[purpose];
  return shape ? detail !== undefined && shape.test(detail) : detail === undefined;
};

const tokenShape =
  /^([cmudfr])([A-Za-z0-9_-]{22})\.([0-9a-z]{1,11})(?:\.([0-9a-z]{1,8}))?\.([A-Za-z0-9_-]{22})$/;
/** Links mailed before ids were sealed: still honoured for unsubscribing and web versions only. */
const legacyShape = /^([ud])([0-9a-z]{1,11})\.(0)\.([A-Za-z0-9_-]{22})$/;

export interface TokenSubject {
  id: number;
  tokenSalt: string;
}

export interface Tokens {
  sign(purpose: TokenPurpose, subject: TokenSubject, now: Date): string;
  /**
   * Tokens of one purpose and subject that differ only in their detail: the id is sealed once, each
   * token costs one HMAC (a digest's feedback links, two per paper).
   */
  signer(purpose: TokenPurpose, subject: TokenSubject, now: Date): (detail: string) => string;
  /** The row id the token names, if its shape and purpose fit; the signature is not checked yet. */
  peek(token: string, purpose: TokenPurpose): number | undefined;
  /** The detail a token carries, if its shape and purpose fit; the signature is not checked yet. */
  peekDetail(token: string, purpose: TokenPurpose): string | undefined;
  verify(token: string, purpose: TokenPurpose, subject: TokenSubject | undefined, now: Date): boolean;
  /** A stable, unguessable name for `label` (e.g. a Message-ID's local part): 22 base64url characters. */
  opaque(label: string): string;
}

export const newTokenSalt = () => randomBytes(16).toString('base64url');

export function createTokens(secretKey: string): Tokens {
  const macKey = Buffer.from(hkdfSync('sha256', secretKey, 'paperboy', 'link-token-v1', 32));
  const sealKey = Buffer.from(hkdfSync('sha256', secretKey, 'paperboy', 'link-token-id-v2', 32));
  const mac = (...parts: string[]) =>
    createHmac('sha256', macKey).update(parts.join('|')).digest().subarray(0, 16).toString('base64url');

  // One AES block: the id (8 bytes) and a marker naming the purpose (8 bytes), which unsealing checks.
  const marker = (letter: string) => Buffer.from(`paperbo${letter}`);
  const seal = (letter: string, id: number) => {
    const block = Buffer.alloc(16);
    block.writeBigUInt64BE(BigInt(id));
    marker(letter).copy(block, 8);
    const cipher = createCipheriv('aes-256-ecb', sealKey, null).setAutoPadding(false);
    return Buffer.concat([cipher.update(block), cipher.final()]).toString('base64url');
  };
  const unseal = (letter: string, sealed: string): number | undefined => {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length !== 16 || bytes.toString('base64url') !== sealed) return undefined;
    const decipher = createDecipheriv('aes-256-ecb', sealKey, null).setAutoPadding(false);
    const block = Buffer.concat([decipher.update(bytes), decipher.final()]);
    if (!block.subarray(8).equals(marker(letter))) return undefined;
    const id = Number(block.readBigUInt64BE());
    return Number.isSafeInteger(id) && id > 0 ? id : undefined;
  };

  /** The id and the signed parts of a token of this purpose, in either format. */
  function parse(token: string, purpose: TokenPurpose) {
    const letter = tokenPurposes[purpose];
    const current = tokenShape.exec(token);
    if (current) {
      const [, tokenLetter, sealed = '', expiry = '', detail, signature = ''] = current;
      if (tokenLetter !== letter) return undefined;
      if (!fitsDetail(purpose, detail)) return undefined;
      const id = unseal(letter, sealed);
      if (id === undefined) return undefined;
      const signed = detail === undefined ? [letter, sealed, expiry] : [letter, sealed, expiry, detail];
      return { id, detail, signed, expiry, signature };
    }
    const legacy = legacyShape.exec(token);
    if (!legacy || legacy[1] !== letter) return undefined;
    const [, , base36 = '', expiry = '', signature = ''] = legacy;
    const id = Number.parseInt(base36, 36);
    if (!Number.isSafeInteger(id) || id <= 0) return undefined;
    return { id, detail: undefined, signed: [letter, base36, expiry], expiry, signature };
  }

  function signer(purpose: TokenPurpose, subject: TokenSubject, now: Date) {
    const lifetime = lifetimes[purpose];
    const expiry = lifetime === undefined ? '0' : Math.ceil((now.getTime() + lifetime) / 1000).toString(36);
    const letter = tokenPurposes[purpose];
    const sealed = seal(letter, subject.id);
    return (detail?: string) => {
      if (!fitsDetail(purpose, detail)) {
        throw new Error(
          `a ${purpose} token ${detailShapes[purpose] ? 'needs a valid detail' : 'has no detail'}`,
        );
      }
      if (detail === undefined)
        return `${letter}${sealed}.${expiry}.${mac(letter, sealed, expiry, subject.tokenSalt)}`;
      return `${letter}${sealed}.${expiry}.${detail}.${mac(letter, sealed, expiry, detail, subject.tokenSalt)}`;
    };
  }

  return {
    sign(purpose, subject, now) {
      return signer(purpose, subject, now)();
    },
    signer,
    peek(token, purpose) {
      return parse(token, purpose)?.id;
    },
    peekDetail(token, purpose) {
      return parse(token, purpose)?.detail;
    },
    verify(token, purpose, subject, now) {
      const parsed = parse(token, purpose);
      if (!parsed || !subject || parsed.id !== subject.id) return false;
      // Compare the text, not decoded bytes: base64 ignores the low bits of the last character.
      const expected = mac(...parsed.signed, subject.tokenSalt);
      const isSignatureValid = timingSafeEqual(Buffer.from(parsed.signature), Buffer.from(expected));
      const expiresAt = Number.parseInt(parsed.expiry, 36) * 1000;
      return isSignatureValid && (expiresAt === 0 || now.getTime() < expiresAt);
    },
    opaque(label) {
      return mac('opaque', label);
    },
  };
}
