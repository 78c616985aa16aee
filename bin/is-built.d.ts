/** dist/ is missing or older than a file in src/ or templates/email/: false. */
export function isBuilt(): boolean;
