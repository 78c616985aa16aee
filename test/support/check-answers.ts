/**
 * Set up for every test file (vitest `setupFiles`): each answer a test fetches from an app started by
 * `startTestApp` is checked against the OpenAPI document, and a test whose answers do not match it
 * fails, listing them. So every integration test also tests the document.
 */
import { afterEach } from 'vitest';
import { isChecked } from './checked-origins.js';

/** Loaded on the first checked answer: unit tests never pay for compiling the document. */
let contract: Promise<typeof import('./api-contract.js')> | undefined;
const loadContract = () => {
  contract ??= import('./api-contract.js');
  return contract;
};

const realFetch = globalThis.fetch;

globalThis.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  const url = input instanceof Request ? input.url : String(input);
  if (isChecked(url)) {
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    // A clone, so the test reads the body as if nothing had looked at it.
    const body = method === 'HEAD' ? '' : await response.clone().text();
    (await loadContract()).recordAnswer({
      method,
      url,
      status: response.status,
      contentType: response.headers.get('content-type'),
      allow: response.headers.get('allow'),
      body,
    });
  }
  return response;
};

afterEach(async () => {
  if (!contract) return;
  const problems = (await contract).takeProblems();
  if (problems.length > 0) {
    throw new Error(`Answers that do not match the OpenAPI document:\n${problems.join('\n')}`);
  }
});
