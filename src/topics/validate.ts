import { hasControlCharacters } from '../text.js';
/**
 * The checks every stored topic passes. The topic language (SPEC §6) plugs its parser in here, so
 * that every route and page validating topics reports syntax errors the same way.
 */
export function checkTopic(query: string): string | undefined {
  if (hasControlCharacters(query)) return 'must not contain control characters or line breaks';
  if (query.trim().length === 0) return 'must not be empty';
  if (query.length > 200) return 'must be at most 200 characters';
  return undefined;
}
