// Lint: recommended JS + typescript-eslint rules; prettier owns formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.run/**', 'data/**', 'bench-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Type-aware rules (the TypeScript program of tsconfig.json, found by the project service).
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: ['**/*.ts'] })),
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    // Off for now: the rules the tree breaks, with the number of violations when type-aware
    // lint was enabled (206 in all, most under operator/, test/ and runtime/src/query,
    // which others were editing). Each deserves its own clean-up, then its line goes.
    rules: {
      '@typescript-eslint/require-await': 'off', // 81
      '@typescript-eslint/no-unnecessary-type-assertion': 'off', // 50 (auto-fixable)
      '@typescript-eslint/no-unsafe-member-access': 'off', // 23
      '@typescript-eslint/restrict-template-expressions': 'off', // 10
      '@typescript-eslint/no-unsafe-assignment': 'off', // 9
      '@typescript-eslint/await-thenable': 'off', // 8
      '@typescript-eslint/no-unsafe-return': 'off', // 7
      '@typescript-eslint/unbound-method': 'off', // 7
      '@typescript-eslint/no-base-to-string': 'off', // 6
      '@typescript-eslint/no-implied-eval': 'off', // 1 (operator/src/api/crds.test.ts)
      '@typescript-eslint/no-redundant-type-constituents': 'off', // 1 (operator/src/api/v1alpha1.ts)
      '@typescript-eslint/only-throw-error': 'off', // 1 (operator/src/controllers/pipeline.ts)
      '@typescript-eslint/prefer-promise-reject-errors': 'off', // 1 (operator/src/kube/metadata.test.ts)
      '@typescript-eslint/no-unsafe-call': 'off', // 1 (test/cluster/operator.test.ts)
    },
  },
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setImmediate: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Module boundaries (docs/architecture.md §5). Import specifiers are relative paths, so the
  // patterns are regexes over them; tests may reach further (they assemble real parts).
  {
    files: ['operator/**/*.ts', 'agent-daemonset/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '/runtime/src/(?!(common|model|processor|platform|bus/kafka)/index\\.js$)',
              message:
                'The operator and the agent import the runtime only through its public entry points: runtime/src/{common,model,processor,platform,bus/kafka}/index.ts (docs/architecture.md §5).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['runtime/src/storage/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(platform|processor/runner)/',
              message:
                'Storage does not import platform/ or processor/runner/ (docs/architecture.md §5): the Sink contract is storage/sink.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['runtime/src/bus/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+processor/(pipeline|stages/|process|embedded|runner/)',
              message: 'The bus only carries records: it does not run processor stages (docs/architecture.md §5).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['runtime/src/common/**/*.ts', 'runtime/src/model/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!common/|model/)',
              message: 'common/ and model/ are the shared ground: they import nothing else of the runtime (docs/architecture.md §5).',
            },
          ],
        },
      ],
    },
  },
);
