/**
 * `npm run apikey:create -- --name <label> [--role admin|agent]`: creates an API key (admin by
 * default) and prints it once. Only its SHA-256 is stored; lose it and create another.
 */
import { generateApiKey } from '../api/auth';
import { loadConfig } from '../config';
import { openDb } from '../db/client';
import { migrate } from '../db/migrate';
import { createApiKey } from '../db/queries';
import { ROLES, type Role } from '../db/schema/values';
import { errorMessage } from '../logging/redact';

async function main(): Promise<void> {
  const nameFlag = process.argv.indexOf('--name');
  const name = nameFlag >= 0 ? process.argv[nameFlag + 1] : 'admin';
  if (!name) throw new Error('--name needs a value');
  const roleFlag = process.argv.indexOf('--role');
  const role = roleFlag >= 0 ? process.argv[roleFlag + 1] : 'admin';
  if (!ROLES.includes(role as Role)) throw new Error(`--role is one of ${ROLES.join(', ')}`);
  const config = loadConfig();
  const db = await openDb(config.DATABASE_URL);
  try {
    await migrate(db);
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name, keyHash, keyPrefix, role: role as Role });
    // The one place a key is shown: on the terminal of the admin who asked for it.
    process.stdout.write(`${key}\n`);
    process.stderr.write(`created ${role} API key "${name}" (${keyPrefix}…); store it now, it is not shown again\n`);
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(errorMessage(error));
  process.exit(1);
});
