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

type Mapping = import('@aws-sdk/client-lambda').GetEventSourceMappingCommandOutput;

/**
 * Fences each mapping that runs (`Enabled`, `Enabling`, `Updating`: a change in flight counts as running, fencing
 * it is what keeps its side effects away), in order: `fence` makes the change and returns the entry that restores it,
 * or why it left the mapping alone. If a call fails, what this call fenced is restored before the error is thrown
 * (the list dies with the call); `onUndo` is told what was fenced and whether the restore worked.
 */
async function fenceEach(
  client: LambdaClient, uuids: readonly string[], fence: (uuid: string, mapping: Mapping) => Promise<string | { readonly skip: string }>,
  undoWord: string, onUndo?: (fenced: string[], undone: string, error: Error) => void,
): Promise<PauseResult> {
  const fenced: string[] = [];
  const skipped: PauseResult['skipped'] = [];
  try {
    for (const uuid of uuids) {
      const mapping = await client.send(new GetEventSourceMappingCommand({ UUID: uuid }));
      const state = mapping.State ?? 'unknown';
      const done = RUNNING_STATES.has(state) ? await fence(uuid, mapping) : { skip: state };
      if (typeof done === 'string') fenced.push(done);
      else skipped.push({ uuid, state: done.skip });
    }
  } catch (error) {
    const undone = await resumeConsumers(client, fenced).then(() => undoWord, (e: Error) => `not ${undoWord}: ${e.message}`);
    onUndo?.(fenced, undone, error as Error);
    throw error;
  }
  return { paused: fenced, skipped };
}

async function pauseOne(client: LambdaClient, uuid: string): Promise<string> {
  await client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false }));
  return encodeFenced({ uuid });
}

/**
 * Pauses each mapping that runs, in order; one that does not run is skipped (a consumer a user disabled is never
 * turned back on). If a call fails, what this call paused is resumed before the error is thrown.
 */
export async function pauseConsumers(
  client: LambdaClient, uuids: readonly string[], onUndo?: (paused: string[], undone: string, error: Error) => void,
): Promise<PauseResult> {
  return fenceEach(client, uuids, (uuid) => pauseOne(client, uuid), 'resumed', onUndo);
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
  return fenceEach(client, uuids, async (uuid, mapping) => {
    if (!readsSqs(mapping.EventSourceArn)) return pauseOne(client, uuid);
    const previous = mapping.ScalingConfig?.MaximumConcurrency;
    if (previous !== undefined && previous <= max) return { skip: `MaximumConcurrency ${previous} already at most ${max}` };
    await client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, ScalingConfig: { MaximumConcurrency: max } }));
    return encodeFenced({ uuid, capPrevious: previous ?? null });
  }, 'restored', onUndo);
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
