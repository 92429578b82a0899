import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../test/wrangler-dev.ts';

/**
 * nginx as a static file server (one worker, sendfile, keep-alive): the "a bucket would do this"
 * baseline, serving `files` (path → bytes) from a temp directory.
 */
export async function startStaticNginx(
  files: Record<string, Uint8Array>,
): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-nginx-static-'));
  const port = await freePort();
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(join(dir, 'www', dirname(path)), { recursive: true });
    await writeFile(join(dir, 'www', path), bytes);
  }
  const conf = join(dir, 'nginx.conf');
  await writeFile(
    conf,
    // As root, nginx's workers would run as nobody and could not read this temp dir.
    `${process.getuid?.() === 0 ? 'user root root; ' : ''}daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  sendfile on; tcp_nopush on; keepalive_requests 1000000;
  types { video/mp4 m4s; }
  server { listen 127.0.0.1:${port}; root ${dir}/www; }
}
`,
  );
  const child: ChildProcess = spawn('nginx', ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${err}`);
    const up = await fetch(`${url}/`).then(
      async (r) => (await r.arrayBuffer(), true),
      () => false,
    );
    if (up) break;
    if (i > 100) throw new Error('nginx did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
