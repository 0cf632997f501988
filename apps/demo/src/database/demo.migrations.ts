import { CreateUsers1750000000000 } from './migrations/1750000000000-create-users.js';
import { CreateReports1750000000001 } from './migrations/1750000000001-create-reports.js';
import { CreateExactlyOnce1750000000002 } from './migrations/1750000000002-create-exactly-once.js';

/** The demo's own migrations, in order; they run after the library's (timestamps 1 and 2). */
export const DEMO_MIGRATIONS = [
  CreateUsers1750000000000,
  CreateReports1750000000001,
  CreateExactlyOnce1750000000002,
];
