// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Workflow code runs in Temporal's deterministic sandbox. The wall is drawn by file name, as
 * temporalio/samples-typescript draws it: each feature's `workflow.ts` and `contract.ts`, the
 * bundle entry and the shared contract may import only the workflow SDK, the shared contract and
 * feature contracts at run time; anything else only as `import type`.
 */
export const WORKFLOW_FILES = ['src/workflows.ts', 'src/shared.ts', 'src/*/workflow.ts', 'src/*/contract.ts'];
const WORKFLOW_WALL = {
  patterns: [
    {
      regex: '^(?!@temporalio/(?:workflow|common)$|\\.{1,2}/shared$|\\./contract$|\\.\\./[a-z-]+/contract$|\\./[a-z-]+/workflow$)',
      message:
        'Workflow code may import only @temporalio/workflow, @temporalio/common, the shared contract and feature contracts (plus `import type` from anywhere).',
      allowTypeImports: true,
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', 'data/', 'coverage/', 'bench/results/'] },
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
    files: WORKFLOW_FILES,
    rules: { '@typescript-eslint/no-restricted-imports': ['error', WORKFLOW_WALL] },
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
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
