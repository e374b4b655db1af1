// The public shapes of DeltaSProbe: its gold set, embedder, gates and props, and what GuardedAlias binds it to.
import * as fs from 'fs';
import { Duration } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { GoldItem as RuntimeGoldItem, parseGoldSet, ProbeGateConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { ProvisionedWarmup } from '../provisioned-warmup';

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

  /**
   * The text and the parsed items; throws GoldSetError (every bad line, with its field) or the file's read error.
   * @internal
   */
  public _load(): { jsonl: string; items: RuntimeGoldItem[] } {
    const jsonl = this.read();
    return { jsonl, items: parseGoldSet(jsonl) };
  }
}

/** One question of a gold set, as parsed at synth. */
export interface GoldItem {
  /** Unique within the file. */
  readonly id: string;
  /** The question as a user would ask it. */
  readonly question: string;
  /** At least two other wordings of the same question. */
  readonly paraphrases: string[];
  /** The text of the section that holds the expected answer (what ΔS and coverage are measured against). */
  readonly target: string;
  /**
   * Optional grouping (coverage and ΔS can be reported per topic).
   * @default - no topic
   */
  readonly topic?: string;
}

/** Which model family embeds the probe's answers. */
export enum ProbeEmbedderKind {
  /** The deterministic, offline HashedNgramEmbedder. */
  HASHED = 'hashed',
  /** Amazon Bedrock text embeddings through InvokeModel. */
  BEDROCK = 'bedrock',
}

/** An embedder as the probe function's configuration names it. */
export interface DeltaSProbeEmbedderConfig {
  /** Which embedder. */
  readonly kind: ProbeEmbedderKind;
  /**
   * The Bedrock model id.
   * @default - none (the hashed embedder)
   */
  readonly modelId?: string;
  /**
   * The Bedrock model's output dimensions.
   * @default - the model's default
   */
  readonly dimensions?: number;
}

/** Options of `ProbeEmbedder.bedrock()`. */
export interface BedrockEmbedderOptions {
  /**
   * The Bedrock embedding model.
   * @default 'amazon.titan-embed-text-v2:0'
   */
  readonly modelId?: string;
  /**
   * Output dimensions (Titan Text Embeddings V2: 256, 512 or 1024).
   * @default - the model's default
   */
  readonly dimensions?: number;
}

/** Which embedder the probe scores answers with. */
export class ProbeEmbedder {
  /** The deterministic, offline HashedNgramEmbedder: no model, no network, no cost (the default). */
  public static hashed(): ProbeEmbedder {
    return new ProbeEmbedder({ kind: ProbeEmbedderKind.HASHED });
  }

  /**
   * Amazon Bedrock text embeddings (Titan Text Embeddings or Cohere Embed) through InvokeModel; the probe
   * may invoke this one model only. The gates' defaults were set with the hashed embedder: measure your gold
   * set with the model before you trust them.
   * @see https://docs.aws.amazon.com/bedrock/latest/userguide/titan-embedding-models.html
   */
  public static bedrock(options: BedrockEmbedderOptions = {}): ProbeEmbedder {
    return new ProbeEmbedder({ kind: ProbeEmbedderKind.BEDROCK, modelId: options.modelId ?? 'amazon.titan-embed-text-v2:0', dimensions: options.dimensions });
  }

  private constructor(
    /** The embedder as the probe function's configuration names it. */
    public readonly config: DeltaSProbeEmbedderConfig,
  ) {}
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
  readonly requestTemplate?: any;
  /**
   * Where the answer string is in the function's response: a JSON path in the syntax ShadowIntegration's
   * `answerPath` and the tap's `redactPaths` use (`$.answer`, `$.data.items[0].text`, `$['x-y']`), naming one value
   * (no `*`).
   * @default '$.answer'
   */
  readonly answerPath?: string;
  /**
   * The same as an RFC 6901 JSON pointer (`/answer`). Give one of `answerPath` and `answerPointer`.
   * @default '/answer'
   * @deprecated use `answerPath`: one JSON path syntax across the library
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
  /**
   * Record the current version's answers in the deployment's first probe run and read them back in its later
   * runs, instead of invoking the current version again for every (question, wording, seed). Its version does not
   * change during a rollout (a published version is immutable), but its answers are only reusable if your
   * function answers the same request with the same seed the same way, which the library cannot know: turn this
   * on only for such a function. Each later run still invokes the current version for a latency sample (at least
   * `gates.latencyMinSamples`, at least one in four of its samples), which the latency judge compares with the
   * new version's and which is checked against the record: one differing answer sets the record aside for that run
   * and the current version is invoked for everything, as it is when the record is missing or unreadable (the
   * report's `reuse` says which). Creates a DynamoDB table (`answerTable`) whose items expire after 3 hours.
   * @default false - both versions are invoked for every sample of every run
   */
  readonly reuseCurrentAnswers?: boolean;
}

/** What GuardedAlias passes to `DeltaSProbe._bind()`. @internal */
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
