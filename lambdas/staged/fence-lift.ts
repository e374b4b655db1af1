// When the staged consumer fence lifts, and how a decision says so: pure, shared by the gate function (which then
// restores the mappings) and the rehearsal (which models them).
import type { GateEvent, GateOutput } from './gate';

/** Why this decision lifts the fence (the rollout rolls back, succeeds, or reaches `fenceUntilStep`); undefined: it holds. */
export function fenceLiftReason(event: GateEvent, output: GateOutput): string | undefined {
  if (event.progress.fenceLifted || (event.fenced ?? []).length === 0) return undefined;
  const until = event.config.schedule.fenceUntilStep ?? 100;
  if (output.next === 'rollback') return 'the rollout rolls back';
  if (output.next === 'succeed') return 'the rollout succeeds';
  if (output.next === 'shift' && output.weight >= until) return `the weight reaches ${output.weight} % (the fence lifts at ${until} %)`;
  return undefined;
}

/** The decision once the fence has lifted: marked in the progress, said in the reasons and the notification. */
export function withFenceLifted(output: GateOutput, restored: readonly string[], why: string): GateOutput {
  const reason = `consumer fence: resumed ${restored.length} event source mapping${restored.length === 1 ? '' : 's'} (${restored.join(', ')}): ${why}`;
  return {
    ...output,
    progress: { ...output.progress, fenceLifted: true },
    reasons: [...output.reasons, reason],
    ...(output.notification ? { notification: { ...output.notification, reasons: [...output.notification.reasons, reason] } } : {}),
  };
}
