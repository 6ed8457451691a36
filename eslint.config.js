import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The layers of services/ (docs/architecture.md) as import rules: each zone says which folders a
 * layer must not import. `except` paths are relative to `from`.
 */
const layers = [
  // The domain layer sits below every service: wire types and the gRPC status type only.
  {
    target: './services/domain',
    from: './services',
    except: ['./domain', './gen', './grpc/rpc-error.ts'],
    message: 'services/domain is below every service: it may import services/gen and grpc/rpc-error.ts only.',
  },
  // The client SDK is what a TypeScript user imports: no server stack.
  {
    target: './services/client',
    from: [
      './services/storage',
      './services/registry',
      './services/coordinator',
      './services/worker',
      './services/server',
      './services/auth',
      './services/cli',
      './services/quickstart',
      './services/engine',
      './services/observability',
    ],
    message: 'services/client must not load the server stack; keep it to gen, grpc, domain and config.',
  },
  // Only the CLI's own modules import the CLI.
  {
    target: './services/!(cli)/**',
    from: './services/cli',
    message: 'services/cli is an entry point: move what you need into services/client or services/domain.',
  },
  // The plug-in contract does not know the modules plugged into it, nor the entry points (the host
  // opens the registry's prompt-change listener, which every module shares: services/registry/index.ts).
  {
    target: './services/server',
    from: ['./services/cli', './services/quickstart', './services/coordinator', './services/worker', './services/auth'],
    message: 'services/server is the plug-in contract; the composition root lives with the entry point (services/cli/commands).',
  },
  // Library layers below the services do not reach up.
  {
    target: ['./services/storage', './services/grpc', './services/observability', './services/config'],
    from: [
      './services/registry',
      './services/coordinator',
      './services/worker',
      './services/auth',
      './services/server',
      './services/quickstart',
      './services/client',
    ],
    message: 'a library layer must not import the services built on it.',
  },
  // The engine's public surface is its facade.
  {
    target: './services/!(engine)/**',
    from: './services/engine',
    // The modules after index.ts load without onnxruntime (index.ts loads it): the CLI's flag and
    // init parsers (and --weights-dtype / --max-memory's) and the registry's safetensors codec, until the engine gives them a light facade.
    except: [
      './index.ts',
      './methods/method-flags.ts',
      './prompt/prompt-init.ts',
      './formats/safetensors.ts',
      './model/weights-dtype.ts',
      './memory/limit.ts',
    ],
    message: 'import the engine through services/engine/index.ts (add the export there).',
  },
  // Inside the engine: what a prompt is (prompt/) sits below the methods, and both below the training loop.
  {
    target: ['./services/engine/prompt', './services/engine/methods'],
    from: './services/engine/train',
    message: 'the training loop builds on methods and prompt files, not the reverse.',
  },
  {
    target: './services/engine/prompt',
    from: './services/engine/methods',
    message: 'prompt files and inits sit below the methods.',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'services/gen/**', 'services/**/generated/**', '.ptune/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JavaScript entry points run on Node.
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The web console's one browser script (services/console/assets): browser globals, no Node.
    files: ['services/console/assets/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { document: 'readonly', EventSource: 'readonly', requestAnimationFrame: 'readonly' },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['services/**/*.ts'],
    settings: {
      // `.js` in an import names the `.ts` source (NodeNext resolution); dependencies are parsed as TypeScript.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
  },
  {
    files: ['services/**/*.ts'],
    // tests may reach across layers to set up what they check
    ignores: ['services/**/*.test.ts'],
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layers }],
    },
  },
  {
    // No import cycles (import-x counts value imports; `import type` vanishes at run time and is not
    // counted; the layer zones above cover type imports between engine layers).
    files: ['services/**/*.ts'],
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
);
