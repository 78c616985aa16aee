import { domainToASCII } from 'node:url';
import { hasControlCharacters } from '../text.js';

// RFC 5321 dot-atom local part: no quotes, spaces, angle brackets, commas or semicolons, which is
// also what keeps an address from smuggling extra recipients or headers into a message.
const localPart = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const domainLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export type NormalizedEmail = { ok: true; email: string } | { ok: false; reason: string };

/** Validates an address and returns its canonical form: lower case, domain in ASCII (punycode). */
export function normalizeEmail(input: string): NormalizedEmail {
  const fail = (reason: string): NormalizedEmail => ({ ok: false, reason });
  if (input.length > 254) return fail('must be at most 254 characters');
  if (hasControlCharacters(input)) return fail('must not contain control characters');
  const at = input.lastIndexOf('@');
  if (at <= 0 || at === input.length - 1) return fail('must be an email address like name@example.org');
  const local = input.slice(0, at);
  if (local.length > 64) return fail('the part before @ must be at most 64 characters');
  if (!localPart.test(local)) return fail('must be an email address like name@example.org');
  const typedDomain = input.slice(at + 1);
  // domainToASCII parses a URL host: it would turn `example.org?subject=hi` (or `/x`, `#x`, `:25`)
  // into `example.org`. Only letters, digits, hyphens and dots may reach it; other scripts go to IDNA.
  if (/[^A-Za-z0-9.\-\u{80}-\u{10FFFF}]/u.test(typedDomain)) {
    return fail('must have a valid domain, like example.org');
  }
  const domain = domainToASCII(typedDomain.toLowerCase());
  const labels = domain.split('.');
  const isDomainValid =
    domain.length > 0 &&
    domain.length <= 253 &&
    labels.length >= 2 &&
    labels.every((label) => domainLabel.test(label)) &&
    /^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(labels.at(-1) ?? '');
  if (!isDomainValid) return fail('must have a valid domain, like example.org');
  return { ok: true, email: `${local.toLowerCase()}@${domain}` };
}

const gmailDomains = new Set(['gmail.com', 'googlemail.com']);

/**
 * The mailbox an address delivers to, for throttling: `+tag` sub-addresses removed and, at Gmail, dots
 * too (Gmail ignores both), so `victim+1@` and `v.ictim@gmail.com` count as one mailbox. Takes a
 * normalized address; the stored address stays as typed.
 */
export function mailboxKey(email: string): string {
  const at = email.lastIndexOf('@');
  let local = email.slice(0, at).split('+')[0] || email.slice(0, at);
  let domain = email.slice(at + 1);
  if (gmailDomains.has(domain)) {
    local = local.replaceAll('.', '');
    domain = 'gmail.com';
  }
  return `${local}@${domain}`;
}
