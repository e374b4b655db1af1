// npm run bench:probe — the ΔS probe's scoring cost and its bundle's load time, against the target
// (scoring 2,400 answers under 1 s), measured and judged in the same run.
//
// Scoring: 200 gold questions × 3 texts (the question and 2 paraphrases) × 2 seeds × 2 versions = 2,400
// answers, every one a distinct string (so the embedder's de-duplication of identical texts cannot make it
// look cheaper than it is), scored by the probe engine itself with the default HashedNgramEmbedder:
// ΔS(answer, target) and coverage per answer, λ state per question and version, drift, flips and the
// latency judge (answerDistances, scoreVersion × 2 and judge: what runProbe does once the answers are in).
// Load: `require()` of the probe bundle (assets/probe/index.js) in a fresh Node.js process, with the
// AWS SDK v3 clients it leaves external resolved from node_modules, as the Lambda runtime provides them.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_PROBE_GATES } from '../packages/runtime/src/contract/probe';
import { answerDistances, judge, planSamples, Sample, scoreVersion } from '../lambdas/probe/engine';
import { CORPUS } from '../lambdas/demo-answer/corpus';
import { GoldItem } from '../packages/runtime/src/contract/gold-set';
import { mulberry32 } from './prng';
import { reuseCost, rolloutCost } from './rollout-cost';

const TARGET_MS = 1000;
const QUESTIONS = 200;
const SEEDS = 2;
const RUNS = 7;

const random = mulberry32(42);
const vocabulary = [...new Set(CORPUS.flatMap((s) => s.text.split(/\s+/)))];
const pick = (n: number) => Array.from({ length: n }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(' ');

// 200 targets of about 50 words (the demo's sections are 40 to 60), each question built from its words.
const gold: GoldItem[] = Array.from({ length: QUESTIONS }, (_, i) => {
  const target = `${CORPUS[i % CORPUS.length].text.split(/\s+/).slice(0, 25).join(' ')} ${pick(25)}`;
  const words = target.split(/\s+/);
  const ask = (k: number) => `What about ${words.slice(k * 5, k * 5 + 6).join(' ')} ${i}?`;
  return { id: `q${i}`, question: ask(0), paraphrases: [ask(1), ask(2)], target };
});

// Each answer: the target with about a fifth of its words replaced, differently per text, seed and version
// (the "new" side a little more), so all 2,400 strings are distinct.
const plan: Sample[] = planSamples(gold, SEEDS);
for (const sample of plan) {
  const words = gold[sample.item].target.split(/\s+/);
  const share = sample.side === 'new' ? 0.25 : 0.2;
  sample.answer = `${words.map((w) => (random() < share ? pick(1) : w)).join(' ')} [${sample.item}.${sample.text}.${sample.seed}.${sample.side}]`;
  sample.latencyMs = 20 + random() * 10;
  sample.cold = false;
}
const answers = new Set(plan.map((s) => s.answer));
if (plan.length !== 2400 || answers.size !== 2400) throw new Error(`expected 2,400 distinct answers, got ${plan.length} (${answers.size} distinct)`);

async function scoreOnce(): Promise<{ ms: number; verdict: string }> {
  const started = process.hrtime.bigint();
  const distances = await answerDistances(gold, plan);
  const fresh = await scoreVersion(gold, plan, 'new', '2', undefined, distances);
  const current = await scoreVersion(gold, plan, 'current', '1', undefined, distances);
  const judged = judge(gold, fresh, current, DEFAULT_PROBE_GATES, true, plan.length, plan.length);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, verdict: judged.gates.filter((g) => !g.passed).map((g) => g.name).join(', ') || 'all gates pass' };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const root = path.join(__dirname, '..');
  const bundle = path.join(root, 'assets', 'probe', 'index.js');
  if (!fs.existsSync(bundle)) throw new Error('assets/probe/index.js is missing: run npm run bundle first');

  const first = await scoreOnce();
  const runs: number[] = [];
  let verdict = first.verdict;
  for (let i = 0; i < RUNS; i++) {
    const run = await scoreOnce();
    runs.push(run.ms);
    verdict = run.verdict;
  }

  const loadScript = `const t = process.hrtime.bigint(); require(${JSON.stringify(bundle)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  const loads = Array.from({ length: 5 }, () => Number(execFileSync(process.execPath, ['--no-warnings', '-e', loadScript], { cwd: root, env: { ...process.env, AWS_REGION: 'eu-west-1' } }).toString()));
  // The same with the three SDK clients already loaded: the bundle's own code (engine, embedder, config, gold set is read later).
  const ownScript = `for (const c of ['client-lambda', 'client-codedeploy', 'client-cloudwatch']) require('@aws-sdk/' + c); ${loadScript}`;
  const own = Array.from({ length: 5 }, () => Number(execFileSync(process.execPath, ['--no-warnings', '-e', ownScript], { cwd: root, env: { ...process.env, AWS_REGION: 'eu-west-1' } }).toString()));
  const size = fs.statSync(bundle).size;

  const scoring = median(runs);
  console.log(`ΔS probe benchmark (node ${process.version}, ${process.platform}/${process.arch})`);
  console.log('');
  console.log('| what | figure | target |');
  console.log('| --- | ---: | --- |');
  console.log(`| scoring 2,400 answers (200 questions × 3 texts × 2 seeds × 2 versions), median of ${RUNS} warm runs | ${scoring.toFixed(0)} ms | < ${TARGET_MS} ms: ${scoring < TARGET_MS ? 'met' : 'MISSED'} |`);
  console.log(`| the same, first (cold) run in this process | ${first.ms.toFixed(0)} ms | < ${TARGET_MS} ms: ${first.ms < TARGET_MS ? 'met' : 'MISSED'} |`);
  console.log(`| per answer (warm) | ${((scoring * 1000) / plan.length).toFixed(0)} µs | |`);
  console.log(`| probe bundle load (require in a fresh process, AWS SDK clients included), median of 5 | ${median(loads).toFixed(0)} ms | |`);
  console.log(`| of which the bundle's own code (SDK clients loaded beforehand), median of 5 | ${median(own).toFixed(1)} ms | |`);
  console.log(`| probe bundle size (assets/probe/index.js, AWS SDK external) | ${(size / 1024).toFixed(1)} KiB | |`);
  console.log('');
  // A rollout's probing, in invocations of the user's function (each a model call for a RAG service): a gold set of
  // 200 questions with 3 paraphrases each (the seeds' 3 paraphrases × 2 seeds), the default staged strategy.
  const costGold: GoldItem[] = gold.map((item, i) => ({ ...item, paraphrases: [...item.paraphrases, `And ${item.question} ${i}`] }));
  const cost = rolloutCost(costGold, SEEDS);
  const reuse = await reuseCost(costGold, SEEDS);
  if (reuse.invocations !== reuse.formula) throw new Error(`reuse: ${reuse.invocations} invocations counted, ${reuse.formula} by the formula`);
  const full = costGold.length * (1 + 3) * SEEDS * 2;
  const n = (x: number) => x.toLocaleString('en-US');
  console.log(`user-function invocations of a default staged rollout's probing: 200 questions × 4 texts × ${SEEDS} seeds, `
    + `${cost.runs.map((r) => (r === null ? 'all' : r)).join(', ')} questions in the machine's runs, all again at 100 % (${n(full)} a full run of both versions)`);
  console.log('');
  console.log('| probing | invocations | against the first |');
  console.log('| --- | ---: | ---: |');
  console.log(`| every run the whole gold set (before canary questions) | ${n(cost.before)} | 1.00× |`);
  console.log(`| canaryQuestions 10 (today's default) | ${n(cost.now)} | ${(cost.now / cost.before).toFixed(2)}× |`);
  console.log(`| canaryQuestions 10 and reuseCurrentAnswers (latency sample max(20, n/4)) | ${n(reuse.invocations)} | ${(reuse.invocations / cost.before).toFixed(2)}× (${(reuse.invocations / cost.now).toFixed(2)}× today's) |`);
  console.log('');
  console.log(`gates on the synthetic answers: ${verdict}`);
  if (scoring >= TARGET_MS) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
