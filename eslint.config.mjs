// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Workflow code runs in Temporal's deterministic sandbox. The wall is drawn by file name, as
 * temporalio/samples-typescript draws it: each feature's `workflow.ts` and `contract.ts`, the
 * bundle entry and the shared contract may import only the workflow SDK, the shared contract,
 * feature contracts and the pure value sets of db/schema/values.ts at run time; anything else only
 * as `import type`.
 */
export const WORKFLOW_FILES = ['src/workflows.ts', 'src/shared.ts', 'src/*/workflow.ts', 'src/*/contract.ts'];
const WORKFLOW_WALL = {
  patterns: [
    {
      regex:
        '^(?!@temporalio/(?:workflow|common)$|\\.{1,2}/shared$|\\./contract$|\\.\\./[a-z-]+/contract$|\\./[a-z-]+/workflow$|\\.\\./db/schema/values$)',
      message:
        'Workflow code may import only @temporalio/workflow, @temporalio/common, the shared contract, feature contracts and the stored value sets (db/schema/values), plus `import type` from anywhere.',
      allowTypeImports: true,
    },
  ],
};

/** Feature folders; the platform (db, providers, emulators, logging, the API shell) never imports them. */
const FEATURES = [
  'drips',
  'cta',
  'welcome',
  'keyword-replies',
  'infobip-sync',
  'templates',
  'webhooks',
  'leads',
  'messages',
  'settings',
  'analytics',
];
const NO_FEATURE = {
  regex: `^(?:\\.\\./)+(?:${FEATURES.join('|')})(?:/|$)`,
  message: 'The platform never imports a feature: move what both need into the platform, or pass it in.',
};
const NO_ACTIVITIES = {
  regex: '(?:^|/)activities$',
  message:
    'Only the worker (src/worker/) loads activity modules; the API process must not. Import the feature contract or a service instead.',
  allowTypeImports: true,
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.tools/',
      'data/',
      'dist/',
      'coverage/',
      'bench/results/',
      'web/dist/',
      'web/src/api/schema.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Only src/config.ts reads the environment; take values from loadConfig().',
        },
      ],
    },
  },
  {
    // Every non-worker module: no runtime import of an activity module.
    files: ['src/**/*.ts'],
    ignores: ['src/worker/**', 'src/*/activities.ts', ...WORKFLOW_FILES],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [NO_ACTIVITIES] }] },
  },
  {
    // The platform: never a feature. The API shell's composition roots (app, context, server) mount the features.
    files: ['src/providers/**', 'src/emulators/**', 'src/logging/**', 'src/api/**', 'src/metrics.ts'],
    ignores: ['src/api/app.ts', 'src/api/context.ts', 'src/api/server.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [NO_FEATURE, NO_ACTIVITIES] }] },
  },
  {
    // The data layer: no feature, and neither providers nor configuration (connections are passed in).
    files: ['src/db/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            NO_FEATURE,
            NO_ACTIVITIES,
            {
              regex: '^(?:\\.\\./)+(?:providers|config)(?:/|$)',
              message: 'The data layer imports neither providers nor configuration.',
            },
          ],
        },
      ],
    },
  },
  {
    files: WORKFLOW_FILES,
    rules: { '@typescript-eslint/no-restricted-imports': ['error', WORKFLOW_WALL] },
  },
  {
    // Server code logs through pino (src/logging/logger.ts): one JSON event per line, redacted at
    // the logger. Emulators, CLIs and `npm start`'s supervisor print for people, and may.
    files: ['src/**/*.ts'],
    ignores: ['src/emulators/**', 'src/cli/**', 'src/start.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // The console runs in the browser: it reaches the server only through the generated client
    // (web/src/api.ts), never by importing server code, and logs nothing to the console.
    files: ['web/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?:\\.\\./)+(?:src|test|scripts)(?:/|$)',
              message: 'The console talks to the API only through its generated client (web/src/api.ts).',
            },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
  {
    // Entry scripts, tests and benches outside src/ may read the environment.
    files: ['src/config.ts', 'test/**', 'bench/**', 'scripts/**', 'temporal/**', '*.config.*'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // Tests read loosely typed JSON responses.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
