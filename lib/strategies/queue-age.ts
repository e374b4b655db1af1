import { Duration } from 'aws-cdk-lib';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { QueueAgeConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { PropProblems } from '../private/validation';

/**
 * The queue-age gate's rule (deploy_traffic_shaping.md: "Gates per step: … queue age slope ≤ 0"). At each check
 * once the new version serves traffic, the gate reads each queue's `ApproximateAgeOfOldestMessage` over the
 * step's window (the bake just finished), one `Maximum` a minute, and fits a least-squares line through those
 * minutes: the queue fails the gate when its oldest message is at least `minAge` old at the end of the window and
 * the line rises faster than `maxSlope`.
 */
export interface QueueAgeGate {
  /**
   * Largest rise of the oldest message's age, in seconds per minute. The seed's ideal is 0; one-minute datapoints
   * of an approximate metric jitter by seconds, so the default allows consumers to fall behind by a tenth of the
   * time that passes (a stopped consumer's backlog ages 60 s a minute). 0 or more.
   * @default 6
   */
  readonly maxSlope?: number;
  /**
   * Age of the oldest message below which a queue has no backlog and is not judged: a queue that drains in
   * seconds may see its age go from 2 to 9 s without anyone waiting. Whole seconds.
   * @default Duration.minutes(1)
   */
  readonly minAge?: Duration;
}

/** The default rise the queue-age gate allows, in seconds per minute. */
export const DEFAULT_QUEUE_AGE_MAX_SLOPE = 6;
/** The default age below which a queue is not judged. */
export const DEFAULT_QUEUE_AGE_MIN_AGE = Duration.minutes(1);

/** Validates `queues` and `queueAge`, each problem naming the prop and the value. */
export function validateQueueAge(problems: PropProblems, prefix: string, queues: unknown, rule: unknown): void {
  if (queues !== undefined) {
    if (!Array.isArray(queues)) problems.add(`${prefix} queues`, 'an array of SQS queues', queues);
    else {
      queues.forEach((q, i) => {
        if (typeof q !== 'object' || q === null || typeof (q as sqs.IQueue).queueName !== 'string') problems.add(`${prefix} queues[${i}]`, 'an sqs.IQueue', String(q));
        else if (queues.indexOf(q) !== i) problems.add(`${prefix} queues[${i}]`, 'listed once', (q as sqs.IQueue).node?.path ?? String(q));
      });
    }
  }
  if (rule === undefined) return;
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    problems.add(`${prefix} queueAge`, 'an object { maxSlope?, minAge? }', rule);
    return;
  }
  if (queues === undefined || (Array.isArray(queues) && queues.length === 0)) {
    problems.add(`${prefix} queueAge`, 'given with at least one queue in queues (there is nothing to judge)', rule);
  }
  const r = rule as QueueAgeGate;
  for (const key of Object.keys(r)) {
    if (key !== 'maxSlope' && key !== 'minAge') problems.add(`${prefix} queueAge.${key}`, 'maxSlope or minAge (unknown key)', key);
  }
  problems.number(`${prefix} queueAge.maxSlope`, r.maxSlope, { min: 0, max: 3600 });
  if (r.minAge !== undefined) {
    if (!(r.minAge instanceof Duration)) problems.add(`${prefix} queueAge.minAge`, 'a Duration', r.minAge);
    else if (!r.minAge.isUnresolved() && r.minAge.toMilliseconds() % 1000 !== 0) problems.add(`${prefix} queueAge.minAge`, 'whole seconds', r.minAge);
  }
}

/** The queue-age gate as the state machine receives it; undefined without queues. */
export function queueAgeConfig(queues: readonly sqs.IQueue[] | undefined, rule: QueueAgeGate | undefined): QueueAgeConfig | undefined {
  if (!queues || queues.length === 0) return undefined;
  return {
    queueNames: queues.map((q) => q.queueName),
    maxSlopeSecondsPerMinute: rule?.maxSlope ?? DEFAULT_QUEUE_AGE_MAX_SLOPE,
    minAgeSeconds: (rule?.minAge ?? DEFAULT_QUEUE_AGE_MIN_AGE).toSeconds(),
  };
}
