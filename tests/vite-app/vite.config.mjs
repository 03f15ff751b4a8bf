// Builds the test app against the package in this repository (resolved by its name).
import { defineConfig } from 'vite';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
export default defineConfig({
  root,
  logLevel: 'warn',
  base: './',
  resolve: { alias: { webtensor: path.resolve(root, '../../dist/js/index.js') } },
  build: { outDir: path.resolve(root, '../../target/vite-app'), emptyOutDir: true, target: 'es2022' },
});
