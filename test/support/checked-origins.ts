/** The origins of the test apps whose answers `check-answers.ts` checks against the OpenAPI document. */
const checkedOrigins = new Set<string>();
export const checkAnswersOf = (url: string) => checkedOrigins.add(new URL(url).origin);
export const stopCheckingAnswersOf = (url: string) => checkedOrigins.delete(new URL(url).origin);
export const isChecked = (url: string) => URL.canParse(url) && checkedOrigins.has(new URL(url).origin);
