/**
 * The README's key table, generated from the schema so every key is documented from one place.
 *
 *     node src/config/docs.ts           print the table
 *     node src/config/docs.ts --write   replace the generated block in src/config/README.md
 *     node src/config/docs.ts --check   exit 1 when README.md is out of date
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createModuleRegistry } from './modules.ts';
import { configSchema } from './schema.ts';
import { type AnySpec, type ModuleSchemaLookup, walkSchema } from './spec.ts';

export const README_PATH = fileURLToPath(new URL('./README.md', import.meta.url));
export const BEGIN_MARKER = '<!-- BEGIN GENERATED: npm run docs:config -->';
export const END_MARKER = '<!-- END GENERATED -->';

function cell(s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function yamlish(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(yamlish).join(', ')}]`;
  if (typeof v === 'string') return v === '' ? "''" : v;
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}: ${yamlish(x)}`)
      .join(', ')}}`;
  return String(v);
}

function defaultText(spec: AnySpec): string {
  if (spec.defaultDoc !== undefined) return `\`${spec.defaultDoc}\``;
  // Mappings have no default of their own: their keys do.
  if (spec.fields !== undefined || spec.moduleMap === true) return spec.optional === true ? '(optional)' : '';
  if (spec.default !== undefined) return `\`${yamlish(spec.default)}\``;
  return spec.optional === true ? '(optional)' : '**required**';
}

/** Every key path the schema knows, with the built-in module schemas expanded. */
export function schemaKeys(modules: ModuleSchemaLookup = createModuleRegistry()): string[] {
  const keys: string[] = [];
  walkSchema(configSchema, modules, (path) => keys.push(path));
  return keys;
}

/** The markdown table (between the markers, markers included). */
export function generateTable(modules: ModuleSchemaLookup = createModuleRegistry()): string {
  const rows = ['| key | type | default | meaning |', '| --- | --- | --- | --- |'];
  walkSchema(configSchema, modules, (path, spec) => {
    // A list element has no default: the list does.
    const dflt = path.endsWith('[]') ? '' : defaultText(spec);
    rows.push(`| \`${path}\` | ${cell(spec.type)} | ${cell(dflt)} | ${cell(spec.doc)} |`);
  });
  return `${BEGIN_MARKER}\n${rows.join('\n')}\n${END_MARKER}`;
}

/**
 * The table with cell padding removed, so the check does not depend on how the formatter
 * (Biome formats markdown too) aligns columns.
 */
export function normalizeTables(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (!line.startsWith('|')) return line;
      const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
      return cells.map((c) => (/^-{3,}$/.test(c) ? '---' : c)).join('|');
    })
    .join('\n');
}

/** Whether README text holds the current table. */
export function readmeIsCurrent(readme: string, table = generateTable()): boolean {
  return normalizeTables(readme).includes(normalizeTables(table));
}

/** README text with its generated block replaced by the current table. */
export function updateReadme(readme: string, table = generateTable()): string {
  const start = readme.indexOf(BEGIN_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start)
    throw new Error(`README.md lacks the markers ${BEGIN_MARKER} … ${END_MARKER}`);
  return readme.slice(0, start) + table + readme.slice(end + END_MARKER.length);
}

function main(args: readonly string[]): number {
  if (args.includes('--write') || args.includes('--check')) {
    const current = readFileSync(README_PATH, 'utf8');
    if (readmeIsCurrent(current)) return 0;
    if (args.includes('--check')) {
      process.stderr.write('src/config/README.md is out of date: run npm run docs:config\n');
      return 1;
    }
    writeFileSync(README_PATH, updateReadme(current));
    // Leave the file as `npm run lint` wants it (Biome aligns markdown tables).
    const biome = fileURLToPath(new URL('../../node_modules/.bin/biome', import.meta.url));
    const r = spawnSync(biome, ['format', '--write', README_PATH], { encoding: 'utf8' });
    if (r.status === 0) return 0;
    process.stderr.write(`biome format failed:\n${r.stderr}${r.error?.message ?? ''}\n`);
    return 1;
  }
  process.stdout.write(`${generateTable()}\n`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
