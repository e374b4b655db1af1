// The import graph of the repository's TypeScript sources, and the rules on which way dependencies point
// (issue #14 §2): the constructs (lib/) reach the runtime package only through its public entry or its contract;
// the handlers (lambdas/) never reach lib/, and no handler folder reaches another; the runtime package never
// reaches lib/, lambdas/, aws-cdk-lib or constructs; the contract reaches neither aws-cdk-lib nor the AWS SDK; the
// command line (cli/) reaches neither lib/ nor bin/ nor aws-cdk-lib.
// Every rule is checked on the transitive closure, not only on direct imports.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const PACKAGE_ALIASES = {
  'cdk-rollout-guardrails-runtime': 'packages/runtime/src/index.ts',
  'cdk-rollout-guardrails-runtime/contract': 'packages/runtime/src/contract/index.ts',
};
const SOURCE_ROOTS = ['lib', 'lambdas', 'packages/runtime/src', 'bin', 'cli'];
const IMPORT = /(?:^|[^.\w])(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]|(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g;

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : walk(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function resolveRelative(from, spec) {
  const base = resolve(dirname(from), spec.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Each source file's imports: `files` (resolved repository files) and `packages` (bare specifiers). */
export function importGraph(root) {
  const graph = new Map();
  const files = SOURCE_ROOTS.flatMap((r) => walk(join(root, r)));
  for (const file of files) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const edges = { files: [], packages: [], specifiers: [] };
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2];
      edges.specifiers.push(spec);
      if (spec.startsWith('.')) {
        const target = resolveRelative(file, spec);
        if (target) edges.files.push(target);
      } else if (PACKAGE_ALIASES[spec]) {
        edges.files.push(join(root, PACKAGE_ALIASES[spec]));
        edges.packages.push(spec);
      } else {
        edges.packages.push(spec);
      }
    }
    graph.set(file, edges);
  }
  return graph;
}

function closure(graph, start) {
  const seen = new Set([start]);
  const stack = [start];
  const parent = new Map();
  while (stack.length) {
    const file = stack.pop();
    for (const next of graph.get(file)?.files ?? []) {
      if (!seen.has(next)) { seen.add(next); parent.set(next, file); stack.push(next); }
    }
  }
  return { seen, parent };
}

function chain(parent, end, root) {
  const path = [end];
  while (parent.has(path[0])) path.unshift(parent.get(path[0]));
  return path.map((p) => relative(root, p)).join(' -> ');
}

/** Every broken rule, as a line naming the files (with the import chain) and the rule. */
export function dependencyProblems(root) {
  const graph = importGraph(root);
  const rel = (file) => relative(root, file).split(sep).join('/');
  const problems = [];
  const handlerFolder = (file) => { const m = /^lambdas\/([^/]+)\//.exec(rel(file)); return m && m[1] !== 'shared' ? m[1] : undefined; };
  for (const [file, edges] of graph) {
    const from = rel(file);
    const { seen, parent } = closure(graph, file);
    const reached = [...seen].filter((f) => f !== file);
    const packagesReached = new Set([...seen].flatMap((f) => graph.get(f)?.packages ?? []));
    if (from.startsWith('lib/')) {
      for (const spec of edges.specifiers) {
        const target = spec.startsWith('.') ? resolveRelative(file, spec) : undefined;
        if (target && !rel(target).startsWith('lib/')) problems.push(`${from}: imports '${spec}' outside lib/ (reach the runtime through 'cdk-rollout-guardrails-runtime' or its '/contract')`);
      }
      for (const f of reached) if (rel(f).startsWith('lambdas/')) problems.push(`${from}: reaches a handler file: ${chain(parent, f, root)}`);
    }
    if (from.startsWith('lambdas/')) {
      for (const f of reached) if (rel(f).startsWith('lib/')) problems.push(`${from}: a handler reaches lib/: ${chain(parent, f, root)}`);
      const own = handlerFolder(file);
      for (const f of reached) {
        const other = handlerFolder(f);
        if (other && other !== own) problems.push(`${from}: reaches another handler's folder (lambdas/${other}): ${chain(parent, f, root)}`);
      }
    }
    if (from.startsWith('packages/runtime/src/')) {
      for (const f of reached) if (!rel(f).startsWith('packages/runtime/src/')) problems.push(`${from}: the runtime reaches outside its package: ${chain(parent, f, root)}`);
      for (const spec of packagesReached) if (/^(aws-cdk-lib|constructs)(\/|$)/.test(spec)) problems.push(`${from}: the runtime reaches ${spec}`);
    }
    if (from.startsWith('cli/')) {
      // The command line ships as one bundle that reads JSON: the handlers' decision code and the contract, never the constructs.
      for (const f of reached) if (rel(f).startsWith('lib/') || rel(f).startsWith('bin/')) problems.push(`${from}: the CLI reaches the constructs: ${chain(parent, f, root)}`);
      for (const spec of packagesReached) if (/^(aws-cdk-lib|constructs)(\/|$)/.test(spec)) problems.push(`${from}: the CLI reaches ${spec} (it must run without aws-cdk-lib)`);
    }
    if (from.startsWith('packages/runtime/src/contract/')) {
      for (const spec of packagesReached) if (/^(aws-cdk-lib|constructs|@aws-sdk\/|@smithy\/)/.test(spec)) problems.push(`${from}: the contract reaches ${spec} (it must stay pure)`);
    }
  }
  return [...new Set(problems)].sort();
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), '..'));
  const graph = importGraph(root);
  const problems = dependencyProblems(root);
  for (const p of problems) console.error(p);
  const edges = [...graph.values()].reduce((n, e) => n + e.files.length, 0);
  console.log(`dependency check: ${graph.size} source files, ${edges} internal imports, ${problems.length} problem(s)`);
  process.exit(problems.length ? 1 : 0);
}
