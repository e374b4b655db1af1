import * as fs from 'fs';
import { Annotations, Duration, Lazy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  DEFAULT_ANSWER_POINTER, DEFAULT_METRIC_NAMESPACE, DEFAULT_PROBE_GATES, DEFAULT_REQUEST_TEMPLATE, PROBE_GATE_OVERRIDES_ENV, PROBE_WARMUP_ENV, ProbeConfig, ProbeEmbedderConfig, ProbeGateConfig,
} from 'cdk-rollout-guardrails-runtime/contract';
import { WarmGateConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { ProvisionedWarmup } from './provisioned-warmup';
import { parsePointer, templateAsksQuestion } from 'cdk-rollout-guardrails-runtime/contract';
import { GoldItem, parseGoldSet } from 'cdk-rollout-guardrails-runtime/contract';
import { GATE_PERIOD } from './canary-metrics';
import { acknowledgeGuard, GATE_ALARM_REASON, logsEncryptedReason, NO_VPC_REASON } from './private/guard';
import { acknowledgeManagedPolicy } from './private/nag';
import { probeCode } from './private/probe-asset';
import { HANDLER_RUNTIME } from './private/runtime';
import { Described, PropProblems, show } from './private/validation';

/** Time the probe function keeps back from its timeout to publish, log and report its status. */
const REPORT_RESERVE = Duration.seconds(20);
/** Lambda's longest timeout. @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html */
const MAX_LAMBDA_TIMEOUT = Duration.minutes(15);
/** Time the warm gate's own Lambda calls may take besides its wait and its pings (GetAlias, Get/Put/Delete of the configuration). */
const WARM_GATE_CALLS = Duration.seconds(10);
/** CloudWatch namespaces: 1 to 255 characters, not starting with "AWS/". @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html */
const NAMESPACE = /^(?!AWS\/)[^:]{1,255}$/;

/** A gold set: JSON Lines of `id`, `question`, `paraphrases` (at least 2), `target`, optional `topic`. */
export class GoldSet {
  /** Reads the gold set from a file at synth. */
  public static fromFile(path: string): GoldSet {
    return new GoldSet(() => fs.readFileSync(path, 'utf8'), `file ${path}`);
  }

  /** A gold set given as JSON Lines text. */
  public static fromJsonl(jsonl: string): GoldSet {
    return new GoldSet(() => jsonl, 'inline JSON Lines');
  }

  private constructor(private readonly read: () => string, public readonly source: string) {}

  /** The text and the parsed items; throws GoldSetError (every bad line, with its field) or the file's read error. */
  public _load(): { jsonl: string; items: GoldItem[] } {
    const jsonl = this.read();
    return { jsonl, items: parseGoldSet(jsonl) };
  }
}

/** Which embedder the probe scores answers with. */
export class ProbeEmbedder {
  /** The deterministic, offline HashedNgramEmbedder: no model, no network, no cost (the default). */
  public static hashed(): ProbeEmbedder {
    return new ProbeEmbedder({ kind: 'hashed' });
  }

  /**
   * Amazon Bedrock text embeddings (Titan Text Embeddings or Cohere Embed) through InvokeModel; the probe
   * may invoke this one model only. The gates' defaults were set with the hashed embedder: measure your gold
   * set with the model before you trust them.
   * @see https://docs.aws.amazon.com/bedrock/latest/userguide/titan-embedding-models.html
   */
  public static bedrock(options: { readonly modelId?: string; readonly dimensions?: number } = {}): ProbeEmbedder {
    return new ProbeEmbedder({ kind: 'bedrock', modelId: options.modelId ?? 'amazon.titan-embed-text-v2:0', dimensions: options.dimensions });
  }

  private constructor(public readonly config: ProbeEmbedderConfig) {}
}

/** Thresholds of the probe's gates; a threshold left out takes its default. */
export interface DeltaSProbeGates {
  /** Largest median ΔS(answer, target) of the new version. @default 0.45 */
  readonly maxDeltaS?: number;
  /** Largest new median ΔS minus current median ΔS. @default 0.03 */
  readonly maxDeltaSDrift?: number;
  /** Smallest median coverage of the new version's answers. @default 0.70 */
  readonly minCoverage?: number;
  /** Most gold questions whose λ state may differ between the versions. @default 0 */
  readonly maxLambdaFlips?: number;
  /** Most responses of the new version without a string at the answer pointer (or not JSON). @default 0 */
  readonly maxSchemaViolations?: number;
  /** Most failed invocations (function error, throttle, timeout) of the new version. @default 0 */
  readonly maxInvokeErrors?: number;
  /** Largest warm-latency p95(new) / p95(current), the latency judge's effect size. @default 1.25 */
  readonly maxLatencyP95Ratio?: number;
  /** Significance level of the latency judge's one-sided Mann-Whitney test. @default 0.05 */
  readonly latencyAlpha?: number;
  /** Fewest warm samples per version for the latency judge to decide. @default 20 */
  readonly latencyMinSamples?: number;
  /** Whether too few warm samples fails the probe. @default false - noted in the report, not blocking */
  readonly requireLatencyVerdict?: boolean;
}

/** Properties of `DeltaSProbe`. */
export interface DeltaSProbeProps {
  /** The gold questions, each with paraphrases and the target section; parsed at synth, so a bad line fails `cdk synth`. */
  readonly goldSet: GoldSet;
  /**
   * The request sent to the function, any JSON value; strings `{{question}}` and `{{seed}}` are filled in
   * (a string that is exactly `{{seed}}` becomes the seed as a number).
   * @default { question: '{{question}}', seed: '{{seed}}' }
   */
  readonly requestTemplate?: unknown;
  /**
   * RFC 6901 JSON pointer to the answer string in the function's response.
   * @default '/answer'
   */
  readonly answerPointer?: string;
  /** Seeds per question text. @default 2 */
  readonly seeds?: number;
  /** Invocations in flight at once (both versions together). @default 8 */
  readonly concurrency?: number;
  /** Longest one invocation may take; a slower one counts as an invoke error. @default Duration.seconds(10) */
  readonly invokeTimeout?: Duration;
  /**
   * How long the probe may go on starting invocations. The function's timeout is this plus `invokeTimeout`
   * (for the last call) plus 20 s to report, at most 15 minutes; for an alias with a `ProvisionedWarmup` it is
   * raised by the warm gate's `readyTimeout`, 10 s for its calls and one more `invokeTimeout` for its pings,
   * which must still fit the 15 minutes (checked when the alias is bound).
   * @default Duration.minutes(5)
   */
  readonly budget?: Duration;
  /** The gates. @default DEFAULT_PROBE_GATES (ΔS ≤ 0.45, drift ≤ 0.03, coverage ≥ 0.70, no λ flip, no schema violation, no invoke error, latency judge) */
  readonly gates?: DeltaSProbeGates;
  /** CloudWatch namespace of the probe's metrics; the function may put metrics in this namespace only. @default 'CdkRolloutGuardrails/Probe' */
  readonly metricNamespace?: string;
  /** Memory of the probe function. @default 512 */
  readonly memorySize?: number;
  /** The embedder that scores ΔS. @default ProbeEmbedder.hashed() */
  readonly embedder?: ProbeEmbedder;
}

/** What GuardedAlias passes to `DeltaSProbe._bind()`. */
export interface ProbeBindTarget {
  /** The scope the ΔS alarm is created in. */
  readonly scope: Construct;
  readonly function: lambda.IFunction;
  readonly aliasName: string;
  readonly version: lambda.IVersion;
  /** The version users are on before the deployment, a deploy-time string. */
  readonly controlVersion: string;
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  /** This alias's own thresholds for some of the probe's gates (from GuardedAlias's `gates`). */
  readonly gates?: Partial<ProbeGateConfig>;
  /**
   * This alias's provisioned concurrency and warm gate: the probe runs the gate before it probes in the
   * BeforeAllowTraffic hook, and deletes the gate's temporary configuration in the AfterAllowTraffic hook.
   * @default - no warm gate
   */
  readonly warmup?: ProvisionedWarmup;
}

/**
 * The ΔS probe: a function that runs as a GuardedAlias's BeforeAllowTraffic and AfterAllowTraffic hook, asks
 * the new and the current version every gold question in every wording and seed, scores the answers (ΔS,
 * coverage, λ, latency) and reports Succeeded or Failed to CodeDeploy, with one JSON report in its log and
 * every measurement as a CloudWatch metric.
 *
 * One DeltaSProbe serves any number of GuardedAliases in its stack (give each the same `probe`), so a stack
 * needs one probe function however many functions it releases. The gold set and configuration travel in
 * the function's code asset; the function learns which function, alias and versions to probe from the
 * deployment itself.
 */
export class DeltaSProbe extends Construct {
  /** The probe function, the hook CodeDeploy runs. */
  public readonly function: lambda.Function;
  /** The gold set, parsed at synth. */
  public readonly goldItems: readonly GoldItem[];
  /** The configuration written beside the handler, defaults filled in. */
  public readonly config: ProbeConfig;
  private readonly bound = new Set<string>();
  /** Per-alias gate overrides, keyed `<function name>:<alias>` as the hook finds them in the AppSpec. */
  private readonly gateOverrides: Record<string, Partial<ProbeGateConfig>> = {};
  /** Per-alias warm gates, keyed like the overrides. */
  private readonly warmGates: Record<string, WarmGateConfig> = {};
  /** The function's timeout in seconds: its own run, raised for the longest warm gate it hosts. */
  private timeoutSeconds: number;

  constructor(scope: Construct, id: string, props: DeltaSProbeProps) {
    super(scope, id);
    const problems = new PropProblems();
    let gold: { jsonl: string; items: GoldItem[] } | undefined;
    if (!(props?.goldSet instanceof GoldSet)) {
      problems.add('goldSet', 'a GoldSet (GoldSet.fromFile(path) or GoldSet.fromJsonl(text))', props?.goldSet);
    } else {
      try {
        gold = props.goldSet._load();
      } catch (error) {
        // A gold set's error lists every bad line on lines of its own: indented under this prop's entry.
        problems.add('goldSet', 'a valid gold set', new Described(`${props.goldSet.source}: ${(error as Error).message.replace(/\n/g, '\n    ')}`));
      }
    }
    const template = props?.requestTemplate ?? DEFAULT_REQUEST_TEMPLATE;
    if (!isJson(template)) problems.add('requestTemplate', 'a JSON value (objects, arrays, strings, numbers, booleans, null)', new Described(String(template)));
    else if (!templateAsksQuestion(template)) problems.add('requestTemplate', 'a template with {{question}} somewhere in it', template);
    const pointer = props?.answerPointer ?? DEFAULT_ANSWER_POINTER;
    try {
      parsePointer(pointer);
    } catch {
      problems.add('answerPointer', 'an RFC 6901 JSON pointer ("" or starting with "/", "~" only as ~0 or ~1)', pointer);
    }
    problems.integer('seeds', props?.seeds, 1, 10);
    problems.integer('concurrency', props?.concurrency, 1, 64);
    problems.integer('memorySize', props?.memorySize, 128, 10240);
    const invokeTimeout = props?.invokeTimeout ?? Duration.seconds(10);
    const budget = props?.budget ?? Duration.minutes(5);
    const maxBudget = MAX_LAMBDA_TIMEOUT.minus(REPORT_RESERVE);
    for (const [prop, value] of [['invokeTimeout', invokeTimeout], ['budget', budget]] as const) {
      if (!(value instanceof Duration)) problems.add(prop, 'a Duration', value);
    }
    if (invokeTimeout instanceof Duration && budget instanceof Duration && !Token.isUnresolved(invokeTimeout) && !Token.isUnresolved(budget)) {
      if (budget.toMilliseconds() < 1000 || budget.toMilliseconds() > maxBudget.toMilliseconds()) {
        problems.add('budget', `from 1 second to ${maxBudget.toHumanString()} (Lambda's 15-minute timeout less ${REPORT_RESERVE.toHumanString()} kept to report)`, budget);
      }
      if (invokeTimeout.toMilliseconds() < 100 || invokeTimeout.toMilliseconds() > budget.toMilliseconds()) {
        problems.add('invokeTimeout', `from 100 milliseconds to the budget (${show(budget)})`, invokeTimeout);
      } else if (budget.toMilliseconds() <= maxBudget.toMilliseconds() && budget.toMilliseconds() + invokeTimeout.toMilliseconds() > maxBudget.toMilliseconds()) {
        problems.add('invokeTimeout', `at most ${Duration.millis(maxBudget.toMilliseconds() - budget.toMilliseconds()).toHumanString()} with a budget of ${show(budget)} (budget, the last call's invokeTimeout and ${REPORT_RESERVE.toHumanString()} to report must fit Lambda's 15-minute timeout)`, invokeTimeout);
      }
    }
    const namespace = props?.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
    if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) problems.add('metricNamespace', '1 to 255 characters without ":", not starting with "AWS/"', namespace);
    const gates = validateProbeGates(props?.gates, problems);
    const embedder = props?.embedder ?? ProbeEmbedder.hashed();
    if (!(embedder instanceof ProbeEmbedder)) {
      problems.add('embedder', 'a ProbeEmbedder (ProbeEmbedder.hashed() or ProbeEmbedder.bedrock())', embedder);
    } else if (embedder.config.kind === 'bedrock') {
      const { modelId, dimensions } = embedder.config;
      if (typeof modelId !== 'string' || !/^[\w.:/-]{1,2048}$/.test(modelId)) problems.add('embedder.modelId', 'a Bedrock model id such as "amazon.titan-embed-text-v2:0"', modelId);
      if (dimensions !== undefined && ![256, 512, 1024].includes(dimensions)) problems.add('embedder.dimensions', 'one of 256, 512, 1024 (Titan Text Embeddings V2)', dimensions);
    }
    problems.throwIfAny(`DeltaSProbe '${this.node.path}'`);

    this.goldItems = gold!.items;
    this.config = {
      requestTemplate: template,
      answerPointer: pointer,
      seeds: props.seeds ?? 2,
      concurrency: props.concurrency ?? 8,
      invokeTimeoutMs: invokeTimeout.toMilliseconds(),
      budgetMs: budget.toMilliseconds(),
      metricNamespace: namespace,
      gates,
      embedder: embedder.config,
    };
    const invocations = 2 * this.config.seeds * this.goldItems.reduce((n, item) => n + 1 + item.paraphrases.length, 0);
    if (this.goldItems.length < 50) {
      Annotations.of(this).addWarningV2('cdk-rollout-guardrails:smallGoldSet',
        `the gold set has ${this.goldItems.length} questions; the canary field guide asks for 50 to 200`);
    }

    this.timeoutSeconds = Math.ceil((budget.toMilliseconds() + invokeTimeout.toMilliseconds() + REPORT_RESERVE.toMilliseconds()) / 1000);
    this.function = new lambda.Function(this, 'Function', {
      runtime: HANDLER_RUNTIME,
      handler: 'index.handler',
      code: probeCode(JSON.stringify(this.config), gold!.jsonl),
      memorySize: props.memorySize ?? 512,
      // The last call may start at the end of the budget and run its invokeTimeout; then the report.
      timeout: Duration.seconds(this.timeoutSeconds),
      // CodeDeploy invokes hooks asynchronously (CD-3): a crashed run is retried (LAM-5). A retry of a run that had
      // reported finds the hook already completed, which the hook takes as done (lambdas/shared/hook-kit.ts).
      retryAttempts: 2,
      // X-Ray traces each probe run (Lambda samples the first request a second and 5 % of the rest).
      tracing: lambda.Tracing.ACTIVE,
      description: `cdk-rollout-guardrails ΔS probe: ${this.goldItems.length} gold questions, ${invocations} invocations per run`,
    });
    acknowledgeManagedPolicy(this.function, 'service-role/AWSLambdaBasicExecutionRole',
      'It only lets the probe write its own CloudWatch Logs (the JSON report); its other permissions are scoped grants.');
    // PutMetricData has no resource-level permissions; the condition keeps the probe to its own namespace.
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': namespace } },
    }));
    if (embedder.config.kind === 'bedrock') {
      const modelId = embedder.config.modelId;
      this.function.addToRolePolicy(new iam.PolicyStatement({
        actions: ['bedrock:InvokeModel'],
        resources: [modelId.startsWith('arn:') ? modelId : Stack.of(this).formatArn({ service: 'bedrock', account: '', resource: 'foundation-model', resourceName: modelId })],
      }));
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:PutMetricData supports no resource-level permissions; the statement is conditioned on the probe\'s own namespace (cloudwatch:namespace). '
        + 'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions either.',
    });
    acknowledgeGuard(this.function, 'lambda_inside_vpc_check', NO_VPC_REASON);
    acknowledgeGuard(this.function, 'cloudwatch_log_group_encrypted_check', logsEncryptedReason('The probe\'s log group (its JSON reports)'));
  }

  /**
   * Lets `grantee` run the probe directly, outside a deployment (a state machine before a staged step, or a
   * person checking a gold set): `{ functionName, alias, currentVersion, targetVersion }` returns the verdict
   * and the report. The probe still invokes only the versions it has been granted.
   */
  public grantRun(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvoke(grantee);
  }

  /** The metric the ΔS alarm of one alias watches: median ΔS of its new version. */
  public metricDeltaS(target: { readonly functionName: string; readonly aliasName: string; readonly version: string }, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('DeltaSMedian', target, options);
  }

  /** Any metric the probe publishes (see docs: DeltaSMedian, CoverageMedian, DeltaSDrift, LambdaFlips, ProbePassed, ...). */
  public metric(metricName: string, target: { readonly functionName: string; readonly aliasName: string; readonly version: string }, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.config.metricNamespace,
      metricName,
      period: GATE_PERIOD,
      statistic: 'Maximum',
      ...options,
      dimensionsMap: { FunctionName: target.functionName, Alias: target.aliasName, Version: target.version, ...options.dimensionsMap },
    });
  }

  /**
   * Wires the probe to one alias (GuardedAlias calls this for its `probe` prop): the probe may invoke
   * exactly the new version and the control version, read and report on exactly this deployment group, and
   * read the revisions of its application; and
   * a ΔS alarm on the new version is returned for the deployment group to watch.
   * @internal
   */
  public _bind(target: ProbeBindTarget): cloudwatch.Alarm {
    if (Stack.of(target.scope) !== Stack.of(this)) {
      throw new Error(`DeltaSProbe '${this.node.path}' can only probe functions of its own stack (${Stack.of(this).stackName}), got one in ${Stack.of(target.scope).stackName}`);
    }
    const key = target.scope.node.path;
    if (this.bound.has(key)) throw new Error(`DeltaSProbe '${this.node.path}' is already bound to '${key}'`);
    const warmupTimeout = this.checkWarmup(target);
    this.bound.add(key);
    target.version.grantInvoke(this.function);
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [`${target.function.functionArn}:${target.controlVersion}`],
    });
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus'],
      resourceArns: [target.deploymentGroup.deploymentGroupArn],
    });
    // GetDeployment returns the revision without its content; GetApplicationRevision (authorised on the
    // application) returns the AppSpec with the versions.
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['codedeploy:GetApplicationRevision'],
      resourceArns: [target.deploymentGroup.application.applicationArn],
    });
    const overrides = Object.fromEntries(Object.entries(target.gates ?? {}).filter(([, v]) => v !== undefined)) as Partial<ProbeGateConfig>;
    if (Object.keys(overrides).length > 0) {
      if (Object.keys(this.gateOverrides).length === 0) {
        // Function names are deploy-time values, so per-alias overrides travel in the environment, not the asset.
        this.function.addEnvironment(PROBE_GATE_OVERRIDES_ENV, Lazy.string({ produce: () => Stack.of(this).toJsonString(this.gateOverrides) }));
      }
      this.gateOverrides[`${target.function.functionName}:${target.aliasName}`] = overrides;
    }
    if (target.warmup !== undefined) {
      if (Object.keys(this.warmGates).length === 0) {
        this.function.addEnvironment(PROBE_WARMUP_ENV, Lazy.string({ produce: () => Stack.of(this).toJsonString(this.warmGates) }));
      }
      this.warmGates[`${target.function.functionName}:${target.aliasName}`] = target.warmup.warmGate;
      target.warmup.grantWarmGate(this.function);
      // The hook runs the warm gate before the probe: its function's timeout makes room for both.
      if (warmupTimeout > this.timeoutSeconds) {
        this.timeoutSeconds = warmupTimeout;
        (this.function.node.defaultChild as lambda.CfnFunction).timeout = warmupTimeout;
      }
    }
    const maxDeltaS: number = overrides.maxDeltaS ?? this.config.gates.maxDeltaS;
    const alarm = new cloudwatch.Alarm(target.scope, 'ProbeDeltaS', {
      metric: this.metricDeltaS({ functionName: target.function.functionName, aliasName: target.aliasName, version: target.version.version }),
      threshold: maxDeltaS,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Release gate maxDeltaS: median ΔS of the new version on the gold set exceeds ${maxDeltaS} (published by the ΔS probe). CodeDeploy rolls the deployment back while this alarm is in ALARM.`,
    });
    acknowledgeGuard(alarm, 'cloudwatch_alarm_action_check', GATE_ALARM_REASON);
    return alarm;
  }

  /**
   * Checks the warm-up bound with `target` and returns the timeout, in seconds, the probe function needs to
   * host its warm gate before the probe (0 without a warm-up): the gate's wait, its own calls and its pings
   * (one invokeTimeout, since they run at once), then the probe's budget, its last call and the time kept
   * to report. More than Lambda's 15 minutes is a synth-time error naming both parts.
   */
  private checkWarmup(target: ProbeBindTarget): number {
    const warmup = target.warmup;
    if (warmup === undefined) return 0;
    const problems = new PropProblems();
    let seconds = 0;
    if (!(warmup instanceof ProvisionedWarmup)) {
      problems.add('warmup', 'a ProvisionedWarmup', (warmup as unknown) instanceof Construct ? new Described(`the construct at '${(warmup as Construct).node.path}'`) : warmup);
    } else {
      if (warmup.alias.aliasName !== target.aliasName || warmup.version !== target.version) {
        problems.add('warmup', `the ProvisionedWarmup of the alias '${target.aliasName}' and version '${target.version.node.path}' the probe is bound to`, new Described(`the ProvisionedWarmup at '${warmup.node.path}' (alias '${warmup.alias.aliasName}', version '${warmup.version.node.path}')`));
      }
      const probeRun = probeRunMs(this.config);
      const gateExtra = WARM_GATE_CALLS.toMilliseconds() + this.config.invokeTimeoutMs;
      const readyMs = warmup.warmGate.readyTimeoutSeconds * 1000;
      const totalMs = readyMs + gateExtra + probeRun;
      seconds = Math.ceil(totalMs / 1000);
      if (totalMs > MAX_LAMBDA_TIMEOUT.toMilliseconds()) {
        const room = MAX_LAMBDA_TIMEOUT.toMilliseconds() - gateExtra - probeRun;
        const budget = Duration.millis(this.config.budgetMs).toHumanString();
        const invoke = Duration.millis(this.config.invokeTimeoutMs).toHumanString();
        problems.add('warmup.readyTimeout',
          `at most ${room >= 1000 ? Duration.seconds(Math.floor(room / 1000)).toHumanString() : 'nothing'} with the probe '${this.node.path}': the hook runs the warm gate (readyTimeout, `
          + `${WARM_GATE_CALLS.toHumanString()} for its calls and the probe's invokeTimeout ${invoke} for the warm pings), then the probe (budget ${budget}, `
          + `invokeTimeout ${invoke} for the last call, ${REPORT_RESERVE.toHumanString()} to report), ${Duration.seconds(seconds).toHumanString()} in all, `
          + 'and Lambda stops a function after 15 minutes; lower readyTimeout or the probe\'s budget',
          Duration.seconds(warmup.warmGate.readyTimeoutSeconds));
      }
    }
    problems.throwIfAny(`DeltaSProbe '${this.node.path}' bound to '${target.scope.node.path}'`);
    return seconds;
  }
}

/** The probe's own run: its budget, the last call's invokeTimeout and the time kept to report. */
function probeRunMs(config: ProbeConfig): number {
  return config.budgetMs + config.invokeTimeoutMs + REPORT_RESERVE.toMilliseconds();
}

function validateProbeGates(gates: DeltaSProbeGates | undefined, problems: PropProblems): ProbeGateConfig {
  if (gates === undefined) return DEFAULT_PROBE_GATES;
  if (typeof gates !== 'object' || gates === null) {
    problems.add('gates', 'an object of thresholds', gates);
    return DEFAULT_PROBE_GATES;
  }
  const known = new Set(Object.keys(DEFAULT_PROBE_GATES));
  for (const key of Object.keys(gates)) {
    if (!known.has(key)) problems.add(`gates.${key}`, `one of ${[...known].join(', ')} (unknown gate)`, key);
  }
  problems.number('gates.maxDeltaS', gates.maxDeltaS, { min: 0, max: 2 });
  problems.number('gates.maxDeltaSDrift', gates.maxDeltaSDrift, { min: -2, max: 2 });
  problems.number('gates.minCoverage', gates.minCoverage, { min: 0, max: 1 });
  problems.integer('gates.maxLambdaFlips', gates.maxLambdaFlips, 0, 100_000);
  problems.integer('gates.maxSchemaViolations', gates.maxSchemaViolations, 0, 1_000_000);
  problems.integer('gates.maxInvokeErrors', gates.maxInvokeErrors, 0, 1_000_000);
  problems.number('gates.maxLatencyP95Ratio', gates.maxLatencyP95Ratio, { min: 0, minInclusive: false, max: 100 });
  problems.number('gates.latencyAlpha', gates.latencyAlpha, { min: 0, max: 1, minInclusive: false, maxInclusive: false });
  problems.integer('gates.latencyMinSamples', gates.latencyMinSamples, 1, 100_000);
  if (gates.requireLatencyVerdict !== undefined && typeof gates.requireLatencyVerdict !== 'boolean') {
    problems.add('gates.requireLatencyVerdict', 'a boolean', gates.requireLatencyVerdict);
  }
  const given = Object.fromEntries(Object.entries(gates).filter(([k, v]) => v !== undefined && known.has(k)));
  return { ...DEFAULT_PROBE_GATES, ...given };
}

function isJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    return (proto === Object.prototype || proto === null) && Object.values(value as object).every(isJson);
  }
  return false;
}
