// The UI's build: one page, hashed assets under /assets/ (web-api caches those as
// immutable), nothing inlined into the page (its Content-Security-Policy allows no
// inline script). The output folder is the CMake build's (<build>/web/dist) when the
// build gives FAXBRIDGE_WEB_OUT, else web/dist. Unit tests live in tests/web/unit,
// mirroring web/src, as every test of the tree lives under tests/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: process.env.FAXBRIDGE_WEB_OUT ?? 'dist',
    emptyOutDir: true,
    // Data URLs would be fine under the policy (img-src data:), but separate files are
    // cached once across releases.
    assetsInlineLimit: 0,
    target: 'es2022',
  },
  test: {
    dir: '../tests/web/unit',
    include: ['**/*.test.ts'],
    globals: true,
    environment: 'node',
  },
});
