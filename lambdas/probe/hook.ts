// The AWS edges of the probe: read the deployment, invoke the versions, publish metrics, report the status.
// Everything that decides lives in engine.ts.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { BedrockEmbedder } from 'cdk-rollout-guardrails-runtime';
import { Embedder } from 'cdk-rollout-guardrails-runtime';
import { GoldItem } from 'cdk-rollout-guardrails-runtime/contract';
import { HookEvent, HookStatus, LambdaAppSpecTarget } from 'cdk-rollout-guardrails-runtime/contract';
import { gatesForAlias, PROBE_GATE_OVERRIDES_ENV, PROBE_WARMUP_ENV, ProbeConfig, ProbeStopRules, warmupForAlias } from 'cdk-rollout-guardrails-runtime/contract';
import { SHADOW_PROMOTION_ENV, shadowPromotionFor } from 'cdk-rollout-guardrails-runtime/contract';
import { shadowStep, ShadowStepClients } from './shadow-step';
import { WarmGateConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { Invoker, InvokeOutcome, ProbeReport, reportMetrics, runProbe } from './engine';
import type { AnswerStore } from './reuse';
import { hookPhase, prewarm, PrewarmResult } from '../shared/warm-gate';
import { functionNameOf } from '../shared/lambda-metrics';
import { HookBounds, hookBounds } from '../shared/hook-clients';
import { appSpecOf as readAppSpec, hookClock, readWithinBudget, reportStatus, SkipKind, skipLine } from '../shared/hook-kit';

export type { DirectRunEvent } from './direct-run';
export { isDirectRun, spreadQuestions, stopRulesOf } from './direct-run';
import { DirectRunEvent, isDirectRun, spreadQuestions, stopRulesOf } from './direct-run';
import { deploymentIdOf } from './direct-run';

/** The part of the Lambda context the hook uses. */
export interface HookContext {
  getRemainingTimeInMillis(): number;
}

/** What the hook handler is built from; tests pass mocked clients and a fixed configuration. */
export interface HookDependencies {
  /** Loads the configuration and gold set; called inside the handler so a failure is still reported. */
  readonly load: () => { readonly config: ProbeConfig; readonly gold: readonly GoldItem[] };
  readonly lambda: LambdaClient;
  readonly codedeploy: CodeDeployClient;
  readonly cloudwatch: CloudWatchClient;
  /** Writes one log line. @default console.log */
  readonly log?: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * Time kept back from the function's own timeout for publishing, logging and reporting.
   * @default 20_000 ms
   */
  readonly reserveMs?: number;
  /** @default - the one the configuration names (see embedderFor) */
  readonly embedder?: Embedder;
  /** How the warm gate waits between polls. @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Time between the warm gate's polls of the new version's provisioned concurrency. @default 5000 ms */
  readonly warmPollMs?: number;
  /** The read budget and the report's bounds. @default hookBounds() (the defaults, lowered by the GUARDRAILS_HOOK_* environment variables) */
  readonly bounds?: HookBounds;
  /** Where the current version's answers are recorded, with `reuseCurrentAnswers` (the answer table). @default - none: not reused */
  readonly answers?: AnswerStore;
  /** Reads the release's shadow record and publishes the decision, for an alias with `requireShadow`. */
  readonly shadow?: ShadowStepClients;
}

/** What the warm gate did in this hook invocation (an alias with a ProvisionedWarmup only). */
export type WarmGateReport =
  /** BeforeAllowTraffic: the gate's configuration and what `prewarm` found. */
  | ({ readonly phase: 'before' } & WarmGateConfig & PrewarmResult)
  /** AfterAllowTraffic: nothing to do (the version's own configuration stays with it). */
  | { readonly phase: 'after' };

/** The embedder a configuration names: undefined (ΔS's shared HashedNgramEmbedder) or a BedrockEmbedder. */
export function embedderFor(config: ProbeConfig): Embedder | undefined {
  const choice = config.embedder;
  if (choice === undefined || choice.kind === 'hashed') return undefined;
  return new BedrockEmbedder({ modelId: choice.modelId, dimensions: choice.dimensions });
}

/** What the handler returns (CodeDeploy ignores it; tests and logs read it). */
export interface HookResult {
  readonly status: HookStatus;
  readonly reasons: string[];
  /** The probe's report: whole for a hook; compact (`compactReport`) for a direct run, whose answer a state machine carries. */
  readonly report?: ProbeReport | CompactProbeReport;
  /** The warm gate's figures, when the alias has one. */
  readonly warmGate?: WarmGateReport;
  /** Why the deployment was not gated (Succeeded at once, no probe, no warm gate; nothing reported when it is over). */
  readonly skipped?: SkipKind;
}

/** How many λ flips, paraphrase flips and examples a compact report lists (their counts are whole). */
export const COMPACT_LIST_LIMIT = 20;

/**
 * The probe's report as a direct run answers it: the same figures without the per-invocation latency samples,
 * and the λ flips, paraphrase flips and examples cut to COMPACT_LIST_LIMIT with their whole counts beside them.
 * Its size no longer grows with the gold set (the whole report is in the probe's log line).
 */
export type CompactProbeReport = Omit<ProbeReport, 'latencySamples'> & {
  readonly lambdaFlipCount: number;
  readonly paraphraseFlipCount: number;
  readonly exampleCount: number;
  readonly compact: true;
};

export function compactReport(report: ProbeReport): CompactProbeReport {
  const { latencySamples: _samples, ...rest } = report;
  return {
    ...rest,
    lambdaFlips: report.lambdaFlips.slice(0, COMPACT_LIST_LIMIT),
    lambdaFlipCount: report.lambdaFlips.length,
    paraphraseFlips: report.paraphraseFlips.slice(0, COMPACT_LIST_LIMIT),
    paraphraseFlipCount: report.paraphraseFlips.length,
    examples: report.examples.slice(0, COMPACT_LIST_LIMIT),
    exampleCount: report.examples.length,
    worstQuestions: report.worstQuestions.slice(0, COMPACT_LIST_LIMIT),
    compact: true,
  };
}

/**
 * Builds the BeforeAllowTraffic / AfterAllowTraffic hook handler. It reads the deployment's AppSpec
 * (`codedeploy:GetDeployment`, then `codedeploy:GetApplicationRevision`) for the function, alias, current
 * and target version, probes both versions,
 * publishes the report's metrics and logs the report as one JSON line, then reports the verdict with
 * `PutLifecycleEventHookExecutionStatus`.
 *
 * For an alias with a warm gate (PROBE_WARMUP_ENV names it), the hook first asks the alias which phase
 * this is (`hookPhase`): before traffic moves it runs `prewarm` on the new version (its own provisioned
 * concurrency READY, then warm pings) and, if that fails, reports Failed with the gate's reasons without
 * probing; once traffic has moved there is nothing to warm. Then it probes as usual, its budget counted
 * from the end of the warm gate. An alias without a warm gate costs no extra call.
 *
 * It first screens the deployment (`screenDeployment`): a rollback, or an AppSpec that does not change the
 * version, is reported Succeeded at once, without a warm gate or a probe (and a deployment that is over gets
 * no report).
 *
 * It always reports, exactly once: Succeeded only when the probe passed or there was nothing to gate; Failed
 * when it did not, when anything throws (a bad AppSpec, a denied GetDeployment, a bad configuration), when
 * the deployment cannot be read within the read budget (`HookBounds.readBudgetMs`, 60 s), and when its own
 * time is nearly out (a watchdog fires `reserveMs` before the function's timeout and reports Failed while the
 * probe is still running). The report is retried (`reportStatus`) and over before the function's timeout.
 * No deployment waits out the hook's hour because of this function.
 *
 * The same handler takes a direct run (`DirectRunEvent`): the same probe, the verdict returned, no status
 * reported.
 */
export function createHookHandler(deps: HookDependencies): (event: HookEvent | DirectRunEvent, context?: HookContext) => Promise<HookResult> {
  const log = deps.log ?? ((line: string) => console.log(line));
  const now = deps.now ?? Date.now;
  const reserveMs = deps.reserveMs ?? 20_000;
  const bounds = deps.bounds ?? hookBounds();

  return async (event, context) => {
    const deploymentId = (event as HookEvent)?.DeploymentId;
    const executionId = (event as HookEvent)?.LifecycleEventHookExecutionId;
    const direct = isDirectRun(event);
    if (!direct && (typeof deploymentId !== 'string' || typeof executionId !== 'string')) {
      // Neither a CodeDeploy hook event nor a direct run: there is nothing to probe and nobody to report to.
      throw new Error(`expected a CodeDeploy lifecycle hook event with DeploymentId and LifecycleEventHookExecutionId, or a direct run with functionName, alias, currentVersion and targetVersion, got: ${JSON.stringify(event)?.slice(0, 200)}`);
    }
    // null, as the staged machine passes before the first shift, is every question too.
    const questionLimit = direct ? event.questionLimit ?? undefined : undefined;
    if (questionLimit !== undefined && !(typeof questionLimit === 'number' && Number.isInteger(questionLimit) && questionLimit >= 1)) {
      throw new Error(`questionLimit must be a positive integer, got: ${JSON.stringify(questionLimit)}`);
    }
    const stopRules = direct ? stopRulesOf(event.stopRules) : undefined;
    // The deployment whose record of the current version's answers the run may read and extend (reuse).
    const runDeployment = direct ? deploymentIdOf(event.deploymentId) : deploymentId;
    const started = now();
    const remaining = context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
    let watchdog: NodeJS.Timeout | undefined;
    const abandon = new AbortController();
    const timeUp = new Promise<HookResult>((resolve) => {
      if (!Number.isFinite(remaining)) return;
      watchdog = setTimeout(() => abandon.abort(), Math.max(0, remaining - reserveMs));
      abandon.signal.addEventListener('abort', () => resolve({
        status: 'Failed',
        reasons: [`the hook's own time is nearly out: ${Math.round((now() - started) / 1000)} s spent, ${reserveMs} ms kept to report`],
      }));
    });
    // The report's own end, on the real clock: shortly before the function's timeout.
    const { reportDeadline } = hookClock(bounds, context, Date.now, reserveMs);
    let report = !direct;
    const work = (async (): Promise<HookResult> => {
      if (direct) {
        // A state machine carries this answer between its states (256 KiB at most, SFN-4): compact, whatever the gold set's size.
        const answer = await probe(deps, async () => event, started, remaining - reserveMs, now, log, abandon.signal, { warm: false, questionLimit, stopRules, deploymentId: runDeployment });
        return answer.report ? { ...answer, report: compactReport(answer.report as ProbeReport) } : answer;
      }
      // Read and screen the deployment first, within its own budget: a rollback or a deployment with nothing
      // to gate gets no warm gate and no probe.
      const read = await readWithinBudget(deps.codedeploy, deploymentId, bounds, abandon.signal);
      if (!read.screen.gate) {
        log(skipLine('probe', deploymentId, read.screen));
        report = read.screen.report;
        return { status: 'Succeeded', reasons: [], skipped: read.screen.kind };
      }
      const target = read.target!;
      return probe(deps, async () => target, started, remaining - reserveMs, now, log, abandon.signal, { warm: true, questionLimit, deploymentId: runDeployment });
    })().catch((error: unknown): HookResult => ({
      status: 'Failed',
      reasons: [`the probe could not run: ${(error as Error)?.message ?? String(error)}`],
    }));
    const result = await Promise.race([work, timeUp]);
    clearTimeout(watchdog);
    log(JSON.stringify({ message: 'cdk-rollout-guardrails probe hook', deploymentId: direct ? null : deploymentId, status: result.status, reasons: result.reasons, ...(result.skipped ? { skipped: result.skipped } : {}) }));
    if (report) await putStatus(deps.codedeploy, deploymentId, executionId, result.status, log, { bounds, deadline: reportDeadline });
    return result;
  };
}

async function probe(
  deps: HookDependencies,
  resolveTarget: () => Promise<LambdaAppSpecTarget>,
  started: number,
  timeLeftMs: number,
  now: () => number,
  log: (line: string) => void,
  signal: AbortSignal,
  run: { readonly warm: boolean; readonly questionLimit?: number; readonly stopRules?: ProbeStopRules; readonly deploymentId?: string },
): Promise<HookResult> {
  const loaded = deps.load();
  const target = await resolveTarget();
  // A GuardedAlias's own `gates` override the probe's for that alias (deploy-time names, so from the environment).
  const config = { ...loaded.config, gates: gatesForAlias(loaded.config.gates, target.functionName, target.alias, process.env[PROBE_GATE_OVERRIDES_ENV]) };
  const gold = run.questionLimit === undefined ? loaded.gold : spreadQuestions(loaded.gold, run.questionLimit);
  // The warm gate, for an alias with a ProvisionedWarmup (deploy-time names, so from the environment).
  const warmup = run.warm ? warmupForAlias(functionNameOf(target.functionName), target.alias, process.env[PROBE_WARMUP_ENV]) : undefined;
  // Stage 0 (requireShadow, deploy-time names, so from the environment): before anything else, before traffic moves.
  const requirement = run.warm ? shadowPromotionFor(functionNameOf(target.functionName), target.alias, process.env[SHADOW_PROMOTION_ENV]) : undefined;
  const phase = warmup || requirement ? await hookPhase({ lambda: deps.lambda, now, sleep: deps.sleep }, target) : undefined;
  if (requirement && phase === 'before') {
    const verdict = await shadowStep(deps.shadow, requirement, target, run.deploymentId, log, signal);
    if (!verdict.passed) return { status: 'Failed', reasons: verdict.checks.filter((c) => c.passed !== true).map((c) => `shadow: ${c.reason}`) };
  }
  let warmGate: WarmGateReport | undefined;
  let probeStarted = started;
  if (warmup) {
    warmGate = await warmGateStep(deps, target, warmup, config, now, log, signal, phase!);
    if (warmGate.phase === 'before' && !warmGate.ok) {
      return { status: 'Failed', reasons: warmGate.reasons.map((r) => `warm gate: ${r}`), warmGate };
    }
    probeStarted = now();
  }
  // No call starts once the budget is spent, nor so late that it could outlast the time kept to report; the
  // budget counts from the end of the warm gate, whose time the function's timeout includes.
  const deadline = probeStarted + Math.min(config.budgetMs, timeLeftMs - (probeStarted - started) - config.invokeTimeoutMs);
  const report = await runProbe({
    gold,
    config,
    invoke: lambdaInvoker(deps.lambda, target, now),
    deadline,
    now,
    functionName: target.functionName,
    alias: target.alias,
    versions: { new: target.targetVersion, current: target.currentVersion },
    embedder: deps.embedder ?? embedderFor(config),
    signal,
    stopRules: run.stopRules,
    // Reuse only within one deployment; off unless the probe's configuration asks for it.
    reuse: config.reuseCurrentAnswers ? {
      store: deps.answers,
      scope: run.deploymentId ? { deploymentId: run.deploymentId, functionName: target.functionName, alias: target.alias, currentVersion: target.currentVersion } : undefined,
    } : undefined,
  });
  // Abandoned by the watchdog, which has reported Failed already: nothing more to say.
  if (signal.aborted) return { status: 'Failed', reasons: ['abandoned when the hook\'s time ran out'] };
  log(JSON.stringify(warmGate ? { ...report, warmGate } : report));
  try {
    await publish(deps.cloudwatch, config.metricNamespace, report);
  } catch (error) {
    // The verdict stands without its metrics; say so, and let the status carry the decision.
    log(JSON.stringify({ message: 'cdk-rollout-guardrails probe: PutMetricData failed', error: (error as Error).message }));
  }
  return { status: report.verdict === 'pass' ? 'Succeeded' : 'Failed', reasons: report.reasons, report, ...(warmGate ? { warmGate } : {}) };
}

/**
 * The warm gate of one hook invocation: the alias tells the phase; before traffic moves, `prewarm` checks the
 * new version's own provisioned concurrency (READY, enough) and pings it; after, there is nothing to do (the
 * configuration lives on the version, which keeps it: nothing is put or deleted during a deployment). One
 * JSON line `cdk-rollout-guardrails/warm-gate` in the log either way.
 */
async function warmGateStep(
  deps: HookDependencies,
  target: LambdaAppSpecTarget,
  warmup: WarmGateConfig,
  config: ProbeConfig,
  now: () => number,
  log: (line: string) => void,
  signal: AbortSignal,
  phase: 'before' | 'after',
): Promise<WarmGateReport> {
  const gateDeps = { lambda: deps.lambda, now, sleep: deps.sleep };
  const where = { functionName: target.functionName, alias: target.alias, version: target.targetVersion };
  let result: WarmGateReport;
  if (phase === 'before') {
    const warm = await prewarm(gateDeps, {
      functionName: target.functionName,
      version: target.targetVersion,
      concurrency: warmup.concurrency,
      pings: warmup.pings,
      readyTimeoutMs: warmup.readyTimeoutSeconds * 1000,
      pollMs: deps.warmPollMs,
      // The pings are invocations like the probe's: the same cut-off.
      pingTimeoutMs: config.invokeTimeoutMs,
      signal,
    });
    result = { phase, ...warmup, ...warm };
  } else {
    result = { phase };
  }
  log(JSON.stringify({ report: 'cdk-rollout-guardrails/warm-gate', ...where, ...result }));
  return result;
}


/**
 * The AppSpec content of a deployment (GetDeployment, then GetApplicationRevision unless the content is in the
 * deployment): the shared kit's `appSpecOf`, kept here for the functions that import it from the probe.
 */
export async function appSpecOf(client: CodeDeployClient, deploymentId: string): Promise<string> {
  return readAppSpec(client, deploymentId);
}

/** Invokes `functionName:<version>` with the tail of its log, to read Lambda's own Duration and Init Duration. */
export function lambdaInvoker(client: LambdaClient, target: LambdaAppSpecTarget, now: () => number = Date.now): Invoker {
  return async (side, request, signal): Promise<InvokeOutcome> => {
    const started = now();
    const response = await client.send(new InvokeCommand({
      FunctionName: target.functionName,
      Qualifier: side === 'new' ? target.targetVersion : target.currentVersion,
      Payload: Buffer.from(JSON.stringify(request)),
      LogType: 'Tail',
    }), { abortSignal: signal });
    const elapsed = now() - started;
    const payload = response.Payload ? Buffer.from(response.Payload).toString('utf8') : undefined;
    const tail = response.LogResult ? Buffer.from(response.LogResult, 'base64').toString('utf8') : '';
    const duration = /REPORT RequestId: \S+\s+Duration: ([\d.]+) ms/.exec(tail);
    return {
      payload,
      functionError: response.FunctionError,
      latencyMs: duration ? Number(duration[1]) : elapsed,
      cold: /Init Duration: [\d.]+ ms/.test(tail),
    };
  };
}

async function publish(client: CloudWatchClient, namespace: string, report: ProbeReport): Promise<void> {
  const functionName = functionNameOf(report.functionName);
  const data = reportMetrics(report).map((m) => ({
    MetricName: m.name,
    Value: m.value,
    Unit: m.unit,
    Dimensions: [
      { Name: 'FunctionName', Value: functionName },
      { Name: 'Alias', Value: report.alias },
      { Name: 'Version', Value: m.version },
    ],
  }));
  // PutMetricData takes at most 1,000 data per call.
  for (let i = 0; i < data.length; i += 1000) {
    await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + 1000) }));
  }
}

/** Reports the hook's status with the shared kit's retries (`reportStatus`): a status already reported counts as done. */
async function putStatus(
  client: CodeDeployClient, deploymentId: string, executionId: string, status: HookStatus, log: (line: string) => void,
  options: { readonly bounds: HookBounds; readonly deadline: number },
): Promise<void> {
  await reportStatus(client, { DeploymentId: deploymentId, LifecycleEventHookExecutionId: executionId }, status, { hook: 'probe', log, ...options });
}
