import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * One rule per layer: files of a layer may not import a layer after it, nor
 * a sibling of the same rank (`dsl` and `connectors`; `cli` and `testing`).
 */
function layerRules(ranks) {
  return ranks.flatMap((rank, i) =>
    rank.map((layer) => {
      const forbidden = [...rank.filter((l) => l !== layer), ...ranks.slice(i + 1).flat()];
      return {
        files: [`src/${layer}/**`],
        rules: { 'no-restricted-imports': ['error', { patterns: [{ group: forbidden.map((l) => `**/${l}/**`), message: `layer ${layer} must not import ${forbidden.join(', ')} (inner layers never import outer ones)` }] }] },
      };
    }),
  ).filter((r) => r.rules['no-restricted-imports'][1].patterns[0].group.length > 0);
}

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
  // The layers, inner to outer: a layer imports only the layers before it. Connectors and the DSL
  // both build on the runtime and know nothing of each other; then the tools built on them (the
  // test driver, the timeline renderer, the development broker), the demo, and the CLI.
  ...layerRules([['records'], ['time'], ['scheduling'], ['windows', 'tables'], ['joins'], ['state'], ['runtime'], ['dsl', 'connectors'], ['testing', 'timeline', 'dev-broker'], ['demo'], ['cli']]),
);
