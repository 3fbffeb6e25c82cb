// Lint: recommended JS + typescript-eslint rules; prettier owns formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.run/**', 'data/**', 'bench-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
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
