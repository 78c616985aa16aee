// Whether dist/ holds a build at least as new as every source it is compiled from.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const stamp = join(root, 'dist/.build-stamp');

/**
 * The newest change under a folder: its files, and its folders (whose times move when a file is
 * added, renamed or deleted); 0 without the folder, as in an image that holds only dist/.
 */
function newestChange(folder) {
  const path = join(root, folder);
  if (!existsSync(path)) return 0;
  return readdirSync(path, { recursive: true }).reduce(
    (newest, name) => Math.max(newest, statSync(join(path, name)).mtimeMs),
    statSync(path).mtimeMs,
  );
}

/** dist/ is missing or older than a file in src/ or templates/email/: false. */
export const isBuilt = () =>
  existsSync(stamp) &&
  statSync(stamp).mtimeMs >= Math.max(newestChange('src'), newestChange('templates/email'));
