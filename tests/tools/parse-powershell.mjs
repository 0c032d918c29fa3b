// Parses PowerShell scripts with tree-sitter (web-tree-sitter + tree-sitter-powershell's wasm)
// and checks their syntax: exit 1 when a tree has ERROR or MISSING nodes (each printed on
// standard error with its file, line and column), 2 on a usage problem, 0 otherwise.
//   node parse-powershell.mjs FILE...            check only
//   node parse-powershell.mjs --shape FILE...    also print each tree's shape on standard output:
//                                                "== FILE", then node types, indented, no leaf text
// Several files per run: loading the grammar takes seconds, parsing milliseconds.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Parser, Language } from 'web-tree-sitter';

const args = process.argv.slice(2);
const shape = args[0] === '--shape';
const files = shape ? args.slice(1) : args;
if (files.length === 0) {
  console.error('usage: node parse-powershell.mjs [--shape] FILE...');
  process.exit(2);
}

const require = createRequire(import.meta.url);
const wasm = require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm');
await Parser.init();
const parser = new Parser();
parser.setLanguage(await Language.load(wasm));

// Walks with a cursor, not node.children: each `children` call copies nodes out of wasm.
function check(file, out) {
  const tree = parser.parse(readFileSync(file, 'utf8'));
  const cursor = tree.walk();
  let problems = 0;
  let depth = 0;
  for (;;) {
    if (cursor.nodeIsMissing || cursor.nodeType === 'ERROR') {
      const p = cursor.startPosition;
      const what = cursor.nodeIsMissing ? 'MISSING ' + cursor.nodeType : 'ERROR';
      console.error(`${file}: ${what} at ${p.row + 1}:${p.column + 1}`);
      ++problems;
    }
    out.push(' '.repeat(depth) + cursor.nodeType);
    if (cursor.gotoFirstChild()) {
      ++depth;
      continue;
    }
    while (!cursor.gotoNextSibling() && cursor.gotoParent()) --depth;
    if (depth === 0) break;
  }
  return problems === 0 && !tree.rootNode.hasError;
}

const out = [];
let ok = true;
for (const file of files) {
  const lines = [];
  ok = check(file, lines) && ok;
  if (shape) out.push('== ' + file, ...lines);
}
if (shape) process.stdout.write(out.join('\n') + '\n');
// exitCode, not exit(): exit() would cut off output still queued for a pipe.
process.exitCode = ok ? 0 : 1;
