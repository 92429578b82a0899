import { enableCompileCache } from 'node:module';

/**
 * Entry point: `node encoder-bridge/main.ts --event demo --pipeline A` (see --help in
 * docs/operations.md); the bridge itself is bridge.ts.
 *
 * Node's compile cache first (`NODE_COMPILE_CACHE`, else `<tmpdir>/node-compile-cache`; writable
 * in the container too): a bridge starts with every (re)start of its process, and type stripping
 * plus compiling its modules was about half of its 1 s start; with the cache a second start
 * skips both. Imported only afterwards, so that the bridge's modules are loaded with it on.
 */
enableCompileCache();
await import('./bridge.ts');
