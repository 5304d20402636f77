/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// voices-server embeds dist/ and serves it at `/`; `npm run dev` proxies the API to a
// server on the default address so pages can be worked on with live reload.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  // The workbench's preview draws the app's interview components (ui/src): they must use
  // the console's Svelte runtime, not a second copy from ui/node_modules.
  resolve: { dedupe: ['svelte'] },
  server: {
    port: 5174,
    strictPort: true,
    proxy: { '/api': 'http://127.0.0.1:8470' },
    // The app's components and the WebAssembly core live beside the console.
    fs: { allow: ['..'] },
  },
  build: {
    outDir: 'dist',
    target: 'es2022',
    // Fonts and the basemap ship as files: nothing may be fetched from elsewhere at run
    // time, and the Content-Security-Policy allows no inline data.
    assetsInlineLimit: 0,
    // Vite's module-preload polyfill is an inline script, which the CSP refuses.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 900,
  },
  test: { include: ['src/**/*.test.ts'] },
});
