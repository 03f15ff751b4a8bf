// Serves the repository root on localhost (the demo is /www/, the bench page /bench/), with the
// right MIME type for .wasm. `node scripts/serve.mjs [port]` runs it; tests import startServer.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `isolated` (the default) sends the headers that make pages cross-origin isolated
 * (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp): only
 * then may a page share memory with workers, which the engine's threaded CPU build needs
 * (src/js/threads.ts). Every resource here is same-origin, so nothing is blocked by them.
 */
export function startServer(port = 0, { isolated = true } = {}) {
  const assets = sirv(root, { dev: true, dotfiles: false });
  const server = http.createServer((req, res) => {
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    if (req.url === '/' || req.url === '') {
      res.writeHead(302, { Location: '/www/' });
      res.end();
      return;
    }
    assets(req, res, () => {
      res.writeHead(404);
      res.end('not found');
    });
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  const { url } = await startServer(port);
  console.log(`webtensor demo: ${url}/www/   (benchmark page: ${url}/bench/)`);
}
