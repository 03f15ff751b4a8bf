// Serves the repository root on localhost (the demo is /www/, the bench page /bench/), with the
// right MIME type for .wasm. `node scripts/serve.mjs [port]` runs it; tests import startServer.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function startServer(port = 0) {
  const assets = sirv(root, { dev: true, dotfiles: false });
  const server = http.createServer((req, res) => {
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
