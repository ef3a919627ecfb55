import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Inner layers never import outer ones (DESIGN §3).
    files: ['src/time/**', 'src/scheduling/**', 'src/windows/**', 'src/state/**', 'src/runtime/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/dsl/**', '**/connectors/**', '**/cli/**', '**/testing/**'], message: 'an inner layer must not import an outer one (DESIGN §3)' },
      ] }],
    },
  },
  {
    files: ['src/time/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/scheduling/**', '**/windows/**', '**/state/**', '**/runtime/**', '**/dsl/**', '**/connectors/**', '**/cli/**', '**/testing/**'], message: 'time is the innermost layer' }] }] },
  },
  {
    files: ['src/scheduling/**', 'src/state/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/runtime/**', '**/dsl/**', '**/connectors/**', '**/cli/**', '**/testing/**'], message: 'an inner layer must not import an outer one (DESIGN §3)' }] }] },
  },
);
