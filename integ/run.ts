// The integ suite's runner: the snapshot check offline, and the run in an AWS account.
//
//   ts-node --transpile-only integ/run.ts check  [name...] [--findings]
//                                                           synthesise every integ app (integ/integ.*.ts), compare its
//                                                           templates with the committed snapshot, and fail on any open
//                                                           cdk-nag or cfn-guard finding on the library's resources (the
//                                                           tests' own are counted; --findings lists every finding); no
//                                                           AWS call
//   ts-node --transpile-only integ/run.ts update [name...]   rewrite the snapshots from a fresh synth (findings as above)
//   ts-node --transpile-only integ/run.ts deploy [name...] [--no-clean] [--sequential]
//                                                           deploy each app with the CDK CLI in the account and region of
//                                                           the current credentials, read its assertion results, destroy
//
// Why not integ-runner: @aws-cdk/integ-runner 2.197.10 (the newest on npm) bundles a cloud assembly schema of version
// 53 and refuses the version-55 assemblies aws-cdk-lib 2.276.0 writes ("Cloud assembly schema version mismatch:
// Maximum schema version supported is 53.x.x, but found 55.0.0"), for the snapshot check and the deploy alike. This
// runner keeps integ-runner's layout (integ.<name>.ts, integ.<name>.ts.snapshot/), context (integ-runner's recommended
// feature flags) and comparison (asset hashes ignored), so that the apps run under integ-runner unchanged once it
// reads version-55 assemblies; the assertions are @aws-cdk/integ-tests-alpha's, which need no runner in the account:
// they are custom resources of the assertion stack, whose results are its `AssertionResults*` outputs.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeFindings, Findings, readFindings } from './support/findings';

const INTEG_DIR = __dirname;
const ROOT = path.join(INTEG_DIR, '..');
const CDK = path.join(ROOT, 'node_modules', '.bin', 'cdk');
const FLAGS_FILE = path.join(ROOT, 'node_modules', '@aws-cdk', 'integ-runner', 'lib', 'recommended-feature-flags.json');
const CLAIM_METADATA = 'integ:claim';

/** Offline, quiet, no telemetry: the environment every child process gets on top of ours. */
const QUIET_ENV = { CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true' };

interface IntegApp {
  /** `staged-rollout` for integ/integ.staged-rollout.ts */
  readonly name: string;
  readonly file: string;
  readonly snapshotDir: string;
}

function discover(only: string[]): IntegApp[] {
  const apps = fs.readdirSync(INTEG_DIR)
    .filter((f) => /^integ\..+\.ts$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => ({ name: f.replace(/^integ\./, '').replace(/\.ts$/, ''), file: path.join(INTEG_DIR, f), snapshotDir: path.join(INTEG_DIR, `${f}.snapshot`) }));
  const unknown = only.filter((n) => !apps.some((a) => a.name === n || `integ.${a.name}.ts` === n));
  if (unknown.length > 0) throw new Error(`no integ app named ${unknown.join(', ')} (have: ${apps.map((a) => a.name).join(', ')})`);
  return only.length === 0 ? apps : apps.filter((a) => only.includes(a.name) || only.includes(`integ.${a.name}.ts`));
}

/**
 * The context of every synth: integ-runner's recommended feature flags with the target partitions left unset, as
 * integ-runner does (runner-base.ts getContext), cross-stack references said to be strong (exports), and no lookups
 * (the apps are environment-agnostic).
 */
function synthContext(): Record<string, unknown> {
  const flags = JSON.parse(fs.readFileSync(FLAGS_FILE, 'utf8')) as Record<string, unknown>;
  delete flags['@aws-cdk/core:target-partitions'];
  // Said explicitly (aws-cdk-lib warns otherwise): the assertion stack reads the stack under test through classic
  // exports and imports, as integ-runner's apps do.
  flags['@aws-cdk/core:defaultCrossStackReferences'] = 'strong';
  return flags;
}

interface Run { readonly code: number; readonly output: string }

function run(command: string, args: string[], options: { env?: Record<string, string>; logFile?: string; echo?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...QUIET_ENV, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = options.logFile ? fs.createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    let output = '';
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      log?.write(chunk);
      if (options.echo) process.stdout.write(chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => {
      log?.end();
      resolve({ code: code ?? 1, output });
    });
  });
}

/** Synthesises `app` into `outdir` (a fresh directory) with the suite's context. No AWS call: the apps do no lookups. */
async function synth(app: IntegApp, outdir: string): Promise<void> {
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.mkdirSync(outdir, { recursive: true });
  const result = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', app.file], {
    env: { CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(synthContext()) },
  });
  if (result.code !== 0) throw new Error(`synth of ${app.name} failed:\n${result.output}`);
}

/** The files a snapshot holds: every stack's template and the integ manifest. */
function snapshotFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.template.json') || f === 'integ.json').sort();
}

const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * What is compared: asset hashes are ignored (integ-runner's default, `diffAssets: false`), as is the assertion
 * custom resources' `salt` (Date.now() at synth, so that CloudFormation runs them on every deploy).
 */
function normalise(value: unknown, key?: string): unknown {
  if (typeof value === 'string') return value.replace(ASSET_HASH, '<asset-hash>');
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'salt' && key === 'Properties') continue;
      out[k.replace(ASSET_HASH, '<asset-hash>')] = normalise(v, k);
    }
    return out;
  }
  return value;
}

/** Paths where `a` and `b` differ, at most `limit`. */
function differences(a: unknown, b: unknown, where = '', found: string[] = [], limit = 15): string[] {
  if (found.length >= limit) return found;
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || a === null || b === null || typeof a !== 'object') {
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 160));
      found.push(`${where || '/'}: ${show(a)} -> ${show(b)}`);
    }
    return found;
  }
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])];
  for (const k of keys) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${where}/${k}`, found, limit);
  return found;
}

/** Compares a fresh synth with the snapshot; returns the problems (none: no change). */
function compare(app: IntegApp, outdir: string): string[] {
  if (!fs.existsSync(app.snapshotDir)) return [`no snapshot (${path.relative(ROOT, app.snapshotDir)}): run \`npm run integ -- --update\``];
  const problems: string[] = [];
  const expected = snapshotFiles(app.snapshotDir);
  const actual = snapshotFiles(outdir);
  for (const f of expected.filter((f) => !actual.includes(f))) problems.push(`${f}: in the snapshot, no longer synthesised`);
  for (const f of actual.filter((f) => !expected.includes(f))) problems.push(`${f}: synthesised, not in the snapshot`);
  for (const f of actual.filter((f) => expected.includes(f))) {
    const before = normalise(JSON.parse(fs.readFileSync(path.join(app.snapshotDir, f), 'utf8')));
    const after = normalise(JSON.parse(fs.readFileSync(path.join(outdir, f), 'utf8')));
    for (const d of differences(before, after)) problems.push(`${f} ${d}`);
  }
  return problems;
}

async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function workDir(app: IntegApp, purpose: string): string {
  return path.join(os.tmpdir(), 'cdk-rollout-guardrails-integ', `${purpose}-${app.name}`);
}

async function checkOrUpdate(apps: IntegApp[], update: boolean, listFindings: boolean): Promise<boolean> {
  const started = Date.now();
  console.log(`${update ? 'Updating' : 'Verifying'} integ snapshots (offline synth, asset hashes ignored) and the cdk-nag and cfn-guard findings...`);
  const outcomes = await inParallel(apps, Math.max(1, Math.min(os.cpus().length, 3)), async (app) => {
    const t = Date.now();
    const outdir = workDir(app, 'synth');
    let findings: Findings | undefined;
    try {
      await synth(app, outdir);
      findings = readFindings(outdir);
      if (update) {
        fs.rmSync(app.snapshotDir, { recursive: true, force: true });
        fs.mkdirSync(app.snapshotDir, { recursive: true });
        for (const f of snapshotFiles(outdir)) fs.copyFileSync(path.join(outdir, f), path.join(app.snapshotDir, f));
        return { app, problems: [] as string[], findings, seconds: (Date.now() - t) / 1000 };
      }
      return { app, problems: compare(app, outdir), findings, seconds: (Date.now() - t) / 1000 };
    } catch (error) {
      return { app, problems: [(error as Error).message], findings, seconds: (Date.now() - t) / 1000 };
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
  for (const { app, problems, findings, seconds } of outcomes) {
    const label = problems.length === 0 ? (update ? 'UPDATED' : 'NO CHANGE') : (update ? 'ERROR' : 'CHANGED');
    console.log(`  ${label.padEnd(10)} integ.${app.name} ${seconds.toFixed(1)}s`);
    for (const p of problems) console.log(`      ${p}`);
    if (!findings) continue;
    console.log(`  ${(findings.problems.length === 0 ? 'FINDINGS' : 'FAILED').padEnd(10)} integ.${app.name}: ${findings.summary}`);
    for (const p of findings.problems) console.log(`      ${p}`);
    if (listFindings) for (const l of describeFindings(findings.findings)) console.log(`      ${l}`);
  }
  const failed = outcomes.filter((o) => o.problems.length > 0).length;
  const judged = outcomes.filter((o) => o.findings);
  const rejected = judged.filter((o) => o.findings!.problems.length > 0).length;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\nSnapshots: ${outcomes.length - failed} ${update ? 'updated' : 'unchanged'}, ${failed} ${update ? 'failed' : 'changed'}, ${outcomes.length} total (${seconds}s)`);
  console.log(`Findings: ${judged.length - rejected} app(s) with no open finding on the library's resources, ${rejected} failed (an open one, or a report that cannot be read), ${outcomes.length - judged.length} not synthesised`);
  if (failed > 0 && !update) console.log('A change that is intended: `npm run integ -- --update`, review the diff, commit the snapshots (and run `npm run integ:deploy` for the apps it touches).');
  if (rejected > 0) console.log('An open finding on the library\'s resources is fixed in lib/ or acknowledged there with a reason, never from integ/ (`npm run integ -- --findings` lists every finding).');
  return failed === 0 && rejected === 0 && judged.length === outcomes.length;
}

/** The last non-blank lines of a command's output. */
function lastLines(output: string, count = 8): string[] {
  return output.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '').slice(-count);
}

/** The stack names of an assembly. */
function stackNames(assemblyDir: string): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  return Object.entries<any>(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack').map(([id, a]) => a.properties?.stackName ?? id);
}

interface Claim { readonly outputKey: string; readonly stack: string; readonly sentence: string }

/** The claims of an assembly: each assertion's sentence, keyed by the `AssertionResults*` output its call writes. */
function claimsOf(assemblyDir: string): Claim[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8'));
  const claims: Claim[] = [];
  for (const [id, artifact] of Object.entries<any>(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const metadata = artifact.additionalMetadataFile
      ? JSON.parse(fs.readFileSync(path.join(assemblyDir, artifact.additionalMetadataFile), 'utf8'))
      : artifact.metadata ?? {};
    for (const [constructPath, entries] of Object.entries<any[]>(metadata)) {
      for (const entry of entries) {
        if (entry.type !== CLAIM_METADATA) continue;
        const constructId = constructPath.split('/').filter(Boolean).pop()!;
        claims.push({ outputKey: `AssertionResults${constructId}`.replace(/[@/-]/g, ''), stack: artifact.displayName ?? id, sentence: String(entry.data) });
      }
    }
  }
  return claims;
}

async function deploy(apps: IntegApp[], clean: boolean, sequential: boolean): Promise<boolean> {
  const started = Date.now();
  console.log(`Running ${apps.length} integ app(s) in the account and region of the current credentials${sequential ? ', one at a time' : ', in parallel'}.`);
  console.log('Each app: synth, cdk deploy (the stacks under test, then the assertion stack), read the assertions, cdk destroy.\n');
  const outcomes = await inParallel(apps, sequential ? 1 : apps.length, async (app) => {
    const t = Date.now();
    const dir = workDir(app, 'deploy');
    const logFile = `${dir}.log`;
    fs.rmSync(logFile, { force: true });
    const lines: string[] = [];
    let ok = true;
    try {
      await synth(app, dir);
      // Reported, not judged here: `npm run integ` is the gate on the library's findings.
      lines.push(`      FINDINGS    ${readFindings(dir).summary}`);
      console.log(`  [${app.name}] deploying (log: ${logFile})`);
      const outputsFile = path.join(dir, 'outputs.json');
      const deployed = await run(CDK, ['deploy', '--app', dir, '--all', '--require-approval', 'never', '--outputs-file', outputsFile, '--no-notices', '--progress', 'events', '--concurrency', '1'], { logFile });
      const outputs: Record<string, Record<string, string>> = fs.existsSync(outputsFile) ? JSON.parse(fs.readFileSync(outputsFile, 'utf8')) : {};
      const flat: Record<string, string> = Object.assign({}, ...Object.values(outputs));
      for (const c of claimsOf(dir)) {
        const raw = flat[c.outputKey];
        let status = 'NOT REACHED';
        let message = '';
        if (raw !== undefined) {
          const parsed = JSON.parse(raw) as { status: string; message?: string };
          status = parsed.status === 'success' ? 'PASS' : 'FAIL';
          message = parsed.message ?? '';
        }
        if (status !== 'PASS') ok = false;
        lines.push(`      ${status.padEnd(11)} ${c.sentence}${message ? `\n                  ${message.replace(/\n/g, '\n                  ')}` : ''}`);
      }
      // Assertions without a claim (none in these apps, but integ-tests' own calls may add some).
      const claimed = new Set(claimsOf(dir).map((c) => c.outputKey));
      for (const [key, raw] of Object.entries(flat).filter(([k]) => k.startsWith('AssertionResults') && !claimed.has(k))) {
        const parsed = JSON.parse(raw) as { status: string; message?: string };
        if (parsed.status !== 'success') ok = false;
        lines.push(`      ${(parsed.status === 'success' ? 'PASS' : 'FAIL').padEnd(11)} (${key})${parsed.message ? ` ${parsed.message}` : ''}`);
      }
      // Facts nobody can assert yet (docs/aws-behaviour.md's unknowns), measured by the apps' observe() calls.
      for (const [key, value] of Object.entries(flat).filter(([k]) => k.startsWith('Observed')).sort()) {
        lines.push(`      OBSERVED    ${key.replace(/^Observed/, '')}: ${value}`);
      }
      if (deployed.code !== 0) {
        ok = false;
        lines.push(`      cdk deploy failed (an assertion that waits fails as a custom resource when its time is out); its last lines:\n        ${lastLines(deployed.output).join('\n        ')}`);
      }
    } catch (error) {
      ok = false;
      lines.push(`      ${(error as Error).message}`);
    } finally {
      if (clean && fs.existsSync(path.join(dir, 'manifest.json'))) {
        const destroyed = await run(CDK, ['destroy', '--app', dir, '--all', '--force', '--no-notices'], { logFile });
        if (destroyed.code !== 0) {
          ok = false;
          lines.push(`      cdk destroy failed: check that no stack of ${app.name} is left (${stackNames(dir).join(', ')}); its last lines:\n        ${lastLines(destroyed.output).join('\n        ')}`);
        }
      } else if (!clean) {
        lines.push(`      --no-clean: the stacks of ${app.name} are left deployed; destroy them with: npx cdk destroy --app ${dir} --all --force`);
      }
    }
    const minutes = ((Date.now() - t) / 60_000).toFixed(1);
    console.log(`  [${app.name}] ${ok ? 'passed' : 'FAILED'} in ${minutes} min`);
    return { app, ok, lines, minutes };
  });
  console.log('\nResults:');
  for (const o of outcomes) {
    console.log(`  ${o.ok ? 'PASSED' : 'FAILED'} integ.${o.app.name} (${o.minutes} min)`);
    for (const l of o.lines) console.log(l);
  }
  const failed = outcomes.filter((o) => !o.ok).length;
  console.log(`\nTests: ${outcomes.length - failed} passed, ${failed} failed, ${outcomes.length} total (${((Date.now() - started) / 60_000).toFixed(1)} min)`);
  return failed === 0;
}

async function main(argv: string[]): Promise<void> {
  const [command = 'check', ...rest] = argv;
  const flags = rest.filter((a) => a.startsWith('--'));
  const names = rest.filter((a) => !a.startsWith('--'));
  const known = ['--update', '--findings', '--no-clean', '--sequential'];
  const unknown = flags.filter((f) => !known.includes(f));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const apps = discover(names);
  let ok: boolean;
  if (command === 'check') ok = await checkOrUpdate(apps, flags.includes('--update'), flags.includes('--findings'));
  else if (command === 'update') ok = await checkOrUpdate(apps, true, flags.includes('--findings'));
  else if (command === 'deploy') ok = await deploy(apps, !flags.includes('--no-clean'), flags.includes('--sequential'));
  else throw new Error(`unknown command ${command} (check, update, deploy)`);
  process.exitCode = ok ? 0 : 1;
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
