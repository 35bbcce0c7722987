// Refreshes the GraphiQL explorer's files that the server embeds
// (internal/explorer/assets), so / works without internet: the built
// bundles of graphiql, react and react-dom, fetched from the npm registry
// with `npm pack` (the packages' own tarballs, checked against their
// integrity by npm), their licences, and VERSIONS.txt naming each file's
// package, version, licence and sha256.
//
//   node scripts/vendor-explorer.mjs
//
// Change a version here, run it, and commit internal/explorer/assets.
// graphiql 4 is the last major with a bundle that runs from a <script>
// tag (5 ships ES modules and Monaco workers); React 18 is the last with
// UMD builds, and the ones gqlgen's page was written for.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contractDir } from './schema.mjs';

const packages = [
  { name: 'graphiql', version: '4.1.2', files: ['graphiql.min.js', 'graphiql.min.css'] },
  { name: 'react', version: '18.2.0', files: ['umd/react.production.min.js'] },
  { name: 'react-dom', version: '18.2.0', files: ['umd/react-dom.production.min.js'] },
];

const out = join(contractDir, '..', 'internal', 'explorer', 'assets');
const work = mkdtempSync(join(tmpdir(), 'vendor-explorer-'));
try {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const lines = ['# Files of the GraphiQL explorer, from the npm registry (mobile-contract/scripts/vendor-explorer.mjs).', '# file  package@version  licence  sha256'];
  for (const p of packages) {
    const dir = join(work, p.name);
    mkdirSync(dir);
    execFileSync('npm', ['pack', `${p.name}@${p.version}`, '--pack-destination', dir, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    execFileSync('tar', ['xzf', join(dir, tarball), '-C', dir]);
    const pkg = JSON.parse(readFileSync(join(dir, 'package', 'package.json'), 'utf8'));
    if (pkg.version !== p.version) throw new Error(`${p.name}: got ${pkg.version}, want ${p.version}`);
    for (const f of p.files) {
      // Byte for byte as published, so the checksums can be compared with
      // the registry's files (and with gqlgen's CDN integrity hashes).
      const name = f.split('/').pop();
      const bytes = readFileSync(join(dir, 'package', f));
      writeFileSync(join(out, name), bytes);
      const sum = createHash('sha256').update(bytes).digest('hex');
      lines.push(`${name}  ${p.name}@${p.version}  ${pkg.license}  ${sum}`);
    }
    copyFileSync(join(dir, 'package', 'LICENSE'), join(out, `LICENSE.${p.name}`));
  }
  writeFileSync(join(out, 'VERSIONS.txt'), lines.join('\n') + '\n');
  console.log(lines.slice(2).join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
}
