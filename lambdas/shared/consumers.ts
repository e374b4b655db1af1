// Pausing and resuming event source mappings, shared by the blue-green worker (its freeze before the switch)
// and the staged rollout (its early-step consumer fences). Only mappings that run are paused, and exactly those
// are remembered, so that a consumer a user disabled themselves is never turned back on.
import { GetEventSourceMappingCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { decodeFenced, encodeFenced } from 'cdk-rollout-guardrails-runtime/contract';

/** Mapping states counted as running: these are paused (and later resumed); any other is left alone. */
export const RUNNING_STATES: ReadonlySet<string> = new Set(['Enabled', 'Enabling', 'Updating']);

/** What a pause did: the mappings it paused (to be resumed) and those it left as they were. */
export interface PauseResult {
  readonly paused: string[];
  readonly skipped: Array<{ readonly uuid: string; readonly state: string }>;
}

/**
 * Pauses each mapping that runs (`Enabled`, `Enabling`, `Updating`), in order. If a call fails, what this call
 * paused is resumed before the error is thrown (the list of what was paused dies with the call); `onUndo` is
 * told what was paused and whether the resume worked, for the caller's log.
 */
export async function pauseConsumers(
  client: LambdaClient, uuids: readonly string[], onUndo?: (paused: string[], undone: string, error: Error) => void,
): Promise<PauseResult> {
  const paused: string[] = [];
  const skipped: PauseResult['skipped'] = [];
  try {
    for (const uuid of uuids) {
      const mapping = await client.send(new GetEventSourceMappingCommand({ UUID: uuid }));
      const state = mapping.State ?? 'unknown';
      // Updating (a change in flight) counts as running: pausing it is what keeps its side effects away.
      if (!RUNNING_STATES.has(state)) {
        skipped.push({ uuid, state });
        continue;
      }
      await client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false }));
      paused.push(uuid);
    }
  } catch (error) {
    // Resume here, so that a retry or the caller's error path does not leave a consumer paused that nobody remembers.
    const undone = await resumeConsumers(client, paused).then(() => 'resumed', (e: Error) => `not resumed: ${e.message}`);
    onUndo?.(paused, undone, error as Error);
    throw error;
  }
  return { paused, skipped };
}

/** Whether a mapping reads an SQS queue (its EventSourceArn is `arn:<partition>:sqs:...`): only those have a ScalingConfig. */
export function readsSqs(eventSourceArn: string | undefined): boolean {
  return typeof eventSourceArn === 'string' && eventSourceArn.split(':')[2] === 'sqs';
}

/**
 * The capping fence: each running SQS mapping's `ScalingConfig.MaximumConcurrency` lowered to `max` (LAM-16), its
 * previous value kept in the returned entry (`encodeFenced`) for the resume; a mapping already at or below `max` is
 * left alone, a mapping that does not run is skipped, and a running mapping of another source (which has no
 * ScalingConfig) is paused instead. As with `pauseConsumers`, a failure undoes what this call did, then throws.
 */
export async function capConsumers(
  client: LambdaClient, uuids: readonly string[], max: number, onUndo?: (fenced: string[], undone: string, error: Error) => void,
): Promise<PauseResult> {
  const fenced: string[] = [];
  const skipped: PauseResult['skipped'] = [];
  try {
    for (const uuid of uuids) {
      const mapping = await client.send(new GetEventSourceMappingCommand({ UUID: uuid }));
      const state = mapping.State ?? 'unknown';
      if (!RUNNING_STATES.has(state)) {
        skipped.push({ uuid, state });
        continue;
      }
      if (!readsSqs(mapping.EventSourceArn)) {
        await client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false }));
        fenced.push(encodeFenced({ uuid }));
        continue;
      }
      const previous = mapping.ScalingConfig?.MaximumConcurrency;
      if (previous !== undefined && previous <= max) {
        skipped.push({ uuid, state: `MaximumConcurrency ${previous} already at most ${max}` });
        continue;
      }
      await client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, ScalingConfig: { MaximumConcurrency: max } }));
      fenced.push(encodeFenced({ uuid, capPrevious: previous ?? null }));
    }
  } catch (error) {
    const undone = await resumeConsumers(client, fenced).then(() => 'restored', (e: Error) => `not restored: ${e.message}`);
    onUndo?.(fenced, undone, error as Error);
    throw error;
  }
  return { paused: fenced, skipped };
}

/**
 * Resumes each fenced mapping as it was: a paused one with `Enabled: true`, a capped one with its previous
 * `ScalingConfig` (an empty one when it had none, which removes the setting). Both are idempotent. Every mapping
 * is tried, then the first failure is thrown: a retry resumes the rest. Returns the entries resumed.
 */
export async function resumeConsumers(client: LambdaClient, entries: readonly string[]): Promise<string[]> {
  const failures: Error[] = [];
  const resumed: string[] = [];
  for (const entry of entries) {
    const { uuid, capPrevious } = decodeFenced(entry);
    try {
      await client.send(new UpdateEventSourceMappingCommand(capPrevious === undefined
        ? { UUID: uuid, Enabled: true }
        : { UUID: uuid, ScalingConfig: capPrevious === null ? {} : { MaximumConcurrency: capPrevious } }));
      resumed.push(entry);
    } catch (error) {
      failures.push(error as Error);
    }
  }
  if (failures.length > 0) throw failures[0];
  return resumed;
}
