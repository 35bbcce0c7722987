// Runs the README's examples against a started server, so the README is
// what is tested: every ```sh block right after a `<!-- walk-through -->`
// line, in order, in one bash (`set -euo pipefail`), in an empty working
// directory. Two things differ from a reader's shell, and only these:
// `localhost:8080` is the server under test (VORESISHOJ_URL), and
// `go run ./cmd/voresishoj` is the binary CI built (VORESISHOJ_BIN), run
// with the server's DATA_DIR, DATABASE_URL and DEV_NOW from the
// environment. The blocks start no server; the README's own start line
// stands outside them.
//
// It fails when the shell fails, when an answer holds GraphQL errors or
// userErrors, or when a value the examples pick out of an answer is null.
//
//   VORESISHOJ_URL=http://127.0.0.1:18080 VORESISHOJ_BIN=./voresishoj \
//   DATA_DIR=... node scripts/readme-walkthrough.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { contractDir } from './schema.mjs';

const marker = '<!-- walk-through -->';

// blocks returns the marked sh blocks of a Markdown text.
export function blocks(markdown) {
  const out = [];
  const re = /^<!-- walk-through -->\n```sh\n([\s\S]*?)^```$/gm;
  for (let m; (m = re.exec(markdown)); ) out.push(m[1]);
  return out;
}

// script turns the blocks into what CI runs.
export function script(markdown, { host, bin }) {
  const found = blocks(markdown);
  if (found.length === 0) throw new Error(`README.md has no sh block after ${marker}`);
  const body = found.join('\n')
    .replaceAll('localhost:8080', host)
    .replaceAll('go run ./cmd/voresishoj', '"$VORESISHOJ_BIN"');
  return `set -euo pipefail\n${body}`;
}

// problems lists what is wrong in the walk-through's output.
export function problems(output) {
  const found = [];
  if (/"errors"\s*:/.test(output)) found.push('an answer holds GraphQL errors');
  if (/"userErrors"\s*:\s*\[\s*\{/.test(output)) found.push('an answer holds userErrors');
  if (/^null$/m.test(output)) found.push('a value picked out of an answer is null');
  return found;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { VORESISHOJ_URL: url, VORESISHOJ_BIN: bin } = process.env;
  if (!url || !bin) {
    console.error('VORESISHOJ_URL and VORESISHOJ_BIN must be set');
    process.exit(2);
  }
  const readme = readFileSync(join(contractDir, '..', 'README.md'), 'utf8');
  const text = script(readme, { host: new URL(url).host, bin });
  const cwd = mkdtempSync(join(tmpdir(), 'readme-walkthrough-'));
  const run = spawnSync('bash', ['-c', text], { cwd, env: process.env, encoding: 'utf8', timeout: 120000 });
  rmSync(cwd, { recursive: true, force: true });
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  const found = problems(run.stdout);
  if (run.status !== 0) found.unshift(`the walk-through exited ${run.status ?? run.signal}`);
  if (found.length > 0) {
    console.error(`\nREADME walk-through failed: ${found.join('; ')}`);
    process.exit(1);
  }
  console.log(`\nREADME walk-through ran (${blocks(readme).length} blocks)`);
}
