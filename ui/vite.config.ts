/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Tauri serves the built files itself; the dev server only runs under `tauri dev`.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    outDir: 'dist',
    target: 'es2021',
    // Fonts must ship as files: nothing may be fetched at run time.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 800,
  },
  // The contrast test reads the real stylesheet (vitest blanks CSS unless told).
  test: { css: { include: [/app\.css/] } },
});
