import tseslint from 'typescript-eslint';

// Another top-level folder of src is entered through its index.ts; src/_internals (no barrel) and
// a file's own folder are reached directly. `up` is the way from a file to src: './', '../', '../../'.
const throughIndex = (up) => ({
  group: [`${up}*/**`, `!${up}*/index.js`, `!${up}_internals/**`],
  message:
    'import another folder of src through its index.ts (a name other folders need but the public API does not goes in its "for other folders of src; not public" block).',
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'src/events/validators.generated.ts',
      'node_modules/**',
      'coverage/**',
      'bin/**',
      'test/helpers/children/**',
      'reports/**',
      '.stryker-tmp/**',
    ],
  },
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
      // A switch over a union names every member: a new event type or status is a compile-time list of places to visit.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }],
    },
  },
  {
    // Type-aware rules for the product's code. Tests may assert presence with `!` (a wrong guess fails the test at once)
    // and guard their cleanup against a setup that threw (`server?.destroy()`), which these rules would refuse.
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unnecessary-condition': 'error',
    },
  },
  ...[
    ['src/*.ts', './'],
    ['src/*/*.ts', '../'],
    ['src/*/*/*.ts', '../../'],
  ].map(([files, up]) => ({
    files: [files],
    // The base rule (not typescript-eslint's, which the core's block below configures): it refuses type-only imports too.
    rules: { 'no-restricted-imports': ['error', { patterns: [throughIndex(up)] }] },
  })),
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
            // node:crypto is pure computation (the client order id's SHA-256), not I/O.
            {
              group: ['node:*', '!node:crypto', 'fs', 'path', 'net', 'http', 'https', 'child_process', 'os'],
              message: 'no Node I/O modules in the core.',
            },
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
