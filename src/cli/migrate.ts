/** `npm run db:migrate`: applies pending migrations to DATABASE_URL and says what it did. */
import { loadConfig } from '../config';
import { openDb } from '../db/client';
import { migrate } from '../db/migrate';
import { isMssqlUrl } from '../db/url';
import { errorMessage } from '../logging/redact';

async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDb(config.DATABASE_URL);
  try {
    const applied = await migrate(db);
    const target = isMssqlUrl(config.DATABASE_URL) ? 'SQL Server' : config.DATABASE_URL;
    process.stdout.write(
      applied.length > 0 ? `applied ${applied.join(', ')} to ${target}\n` : `${target} is up to date\n`,
    );
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(errorMessage(error));
  process.exit(1);
});
