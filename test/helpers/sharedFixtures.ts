import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared/fixtures beside the project checkout, wherever the checkout lives (CI clones elsewhere). */
export const SHARED_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures');

export const ALPINE_FIXTURES = path.join(SHARED_FIXTURES, 'alpine');
