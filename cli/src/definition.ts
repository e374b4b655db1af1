// Reads the per-alias configurations the constructs wrote into a state machine's definition. Both machineries
// (lib/private/staged-machine.ts, lib/private/blue-green-machine.ts) embed every attached alias's configuration
// as a JSON object literal inside a JSONata `$lookup({...}, $states.input.configKey)` in their first state, keyed
// by aliasConfigKey(application, deployment group). The definition is a Fn::Join whose tokens tokens.ts resolves.
import { CfnResource } from './assembly';
import { CliInputError } from './errors';
import { resolveString } from './tokens';

/** One state of an Amazon States Language definition (only what the rehearsal reads). */
export interface AslState {
  readonly Type: string;
  readonly TimeoutSeconds?: number;
  readonly Retry?: ReadonlyArray<{ ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number }>;
  readonly Catch?: ReadonlyArray<{ ErrorEquals: string[]; Next: string }>;
  readonly Next?: string;
  readonly Branches?: ReadonlyArray<{ States: Record<string, AslState> }>;
  readonly Iterator?: { States: Record<string, AslState> };
}

/** A state machine's definition, parsed, and the alias configurations found in it. */
export interface MachineDefinition {
  readonly logicalId: string;
  readonly states: Record<string, AslState>;
  /** aliasConfigKey → the configuration object, as written at synth (tokens resolved to names). */
  readonly configs: Record<string, Record<string, unknown>>;
}

/** The JSON object literal starting at `text[start]` (a `{`), found by matching braces outside strings. */
export function objectLiteralAt(text: string, start: number): string {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  throw new Error('unbalanced braces');
}

function stringsOf(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) value.forEach((v) => stringsOf(v, into));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => stringsOf(v, into));
  return into;
}

/** Every state of a definition, those inside Parallel branches and Map iterators included, by name. */
export function allStates(states: Record<string, AslState>): Record<string, AslState> {
  const out: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(states)) {
    out[name] = state;
    for (const branch of state.Branches ?? []) Object.assign(out, allStates(branch.States));
    if (state.Iterator) Object.assign(out, allStates(state.Iterator.States));
  }
  return out;
}

/** Parses a state machine resource's definition and the `$lookup` configurations in it. */
export function readMachine(logicalId: string, resource: CfnResource, templateFile: string): MachineDefinition {
  const raw = resource.Properties?.DefinitionString ?? resource.Properties?.Definition;
  let parsed: { States?: Record<string, AslState> };
  try {
    parsed = typeof raw === 'object' && raw !== null && !('Fn::Join' in raw) && !('Fn::Sub' in raw) ? raw as never : JSON.parse(resolveString(raw));
  } catch (error) {
    throw new CliInputError(`${templateFile}: the definition of state machine ${logicalId} could not be read: ${(error as Error).message}`);
  }
  const configs: Record<string, Record<string, unknown>> = {};
  for (const text of stringsOf(parsed.States ?? {})) {
    for (let at = text.indexOf('$lookup('); at >= 0; at = text.indexOf('$lookup(', at + 1)) {
      const open = text.indexOf('{', at);
      if (open < 0) continue;
      try {
        Object.assign(configs, JSON.parse(objectLiteralAt(text, open)));
      } catch {
        // Not a configuration table (another $lookup of the definition).
      }
    }
  }
  return { logicalId, states: parsed.States ?? {}, configs };
}
