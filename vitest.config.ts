import { defineConfig } from 'vitest/config';

// Against a shared SQL Server the test files would empty each other's tables: run them in turn.
const sharedDatabase = /^(mssql|sqlserver):/i.test(process.env.DATABASE_URL ?? '');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Two cores: files that start a Temporal server and a worker are heavy, run two at a time.
    maxWorkers: 2,
    fileParallelism: !sharedDatabase,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
