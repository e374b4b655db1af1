// Pausing and resuming event source mappings, shared by the blue-green worker (its freeze before the switch)
// and the staged rollout (its early-step consumer fences). Only mappings that run are paused, and exactly those
// are remembered, so that a consumer a user disabled themselves is never turned back on.
import { GetEventSourceMappingCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';

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

/**
 * Resumes each mapping (`Enabled: true`, idempotent). Every mapping is tried, then the first failure is thrown:
 * a retry resumes the rest. Returns the mappings resumed.
 */
export async function resumeConsumers(client: LambdaClient, uuids: readonly string[]): Promise<string[]> {
  const failures: Error[] = [];
  const resumed: string[] = [];
  for (const uuid of uuids) {
    try {
      await client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true }));
      resumed.push(uuid);
    } catch (error) {
      failures.push(error as Error);
    }
  }
  if (failures.length > 0) throw failures[0];
  return resumed;
}
