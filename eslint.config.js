import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bin/**', 'test/helpers/children/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // The core is pure: no database, network or file-system modules in events and commands.
    files: ['src/events/**/*.ts', 'src/commands/**/*.ts'],
    rules: {
      // Type-only imports of a port are allowed: the handler depends on the store's interface, never an engine.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['better-sqlite3', '@eventstore/db-client', 'pino', 'pino-pretty'].map((name) => ({
            name,
            message: 'src/events and src/commands stay free of I/O: depend on a port instead.',
          })),
          patterns: [
            { group: ['node:*', 'fs', 'path', 'net', 'http', 'https', 'child_process', 'os'], message: 'no Node I/O modules in the core.' },
            {
              group: ['**/store/**', '**/cli/**', '**/projections/**', '**/reconcile/**', '**/tracker/**', '**/config/**'],
              message: 'the core does not depend on outer layers (type-only imports of a port are fine).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
