/** An option of `withRelease` or `pinGuard` is invalid (wrong type or value); `option` names it. Thrown at wrap time. */
export class ReleaseConfigError extends Error {
  /** The option at fault, e.g. `sink` or `pins.SCHEMA_REV`. */
  public readonly option: string;

  constructor(option: string, message: string) {
    super(`${option}: ${message}`);
    this.name = 'ReleaseConfigError';
    this.option = option;
  }
}

/** A value as an error message shows it: JSON where JSON can, else its type. */
export function shown(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return `a ${typeof value} that JSON cannot show`;
  }
}
