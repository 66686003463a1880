import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const core = resolve(__dirname, '..', 'lib', 'core');

/** Every module specifier a TypeScript file imports, re-exports or requires. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s+['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns)
    for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** What in `file` reaches outside the core: anything but `node:*` and the core's own files. */
export function outwardImports(file: string, source: string): string[] {
  return specifiers(source).filter((specifier) => {
    if (specifier.startsWith('node:')) return false;
    if (!specifier.startsWith('.')) return true;
    const target = relative(core, resolve(dirname(file), specifier));
    return target.startsWith('..');
  });
}

/** ARCHITECTURE.md: arrows point inwards; the core uses nothing of ours, nor any package. */
describe('lib/core depends on nothing but Node and itself', () => {
  const files = filesUnder(core);

  it('finds the core', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((file) => [relative(core, file), file]))('%s', (_name, file) => {
    expect(outwardImports(file, readFileSync(file, 'utf8'))).toEqual([]);
  });

  it('the check itself catches the imports it is there to catch', () => {
    const file = join(core, 'example.ts');
    const source = [
      "import { MemoryStore } from '../stores/memory.store';",
      "import type { Logger } from '@nestjs/common';",
      "export { SessionStoreError } from '../exceptions';",
      "import { randomBytes } from 'crypto';",
      "import { createHash } from 'node:crypto';",
      "import { readCookie } from './cookie';",
      "const lazy = require('express-session');",
    ].join('\n');
    expect(outwardImports(file, source)).toEqual([
      '../stores/memory.store',
      '@nestjs/common',
      '../exceptions',
      'crypto',
      'express-session',
    ]);
  });
});
