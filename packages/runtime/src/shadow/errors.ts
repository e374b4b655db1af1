/** The base of every error raised by the shadow runtime (tap, sanitising, record parsing). */
export class ShadowError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ShadowError';
  }
}

/** An option of `shadowTap` or a JSON path is invalid; `option` names it. */
export class ShadowConfigError extends ShadowError {
  /** The option (or environment variable) at fault. */
  public readonly option: string;

  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super(`${option}: ${message}`, options);
    this.name = 'ShadowConfigError';
    this.option = option;
  }
}
