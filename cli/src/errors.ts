// The CLI's one error type: bad input (a missing cloud assembly, an unknown option, scenario or stack, a malformed
// scenario file) that the user can fix. main.ts prints its message alone, without a stack trace, and exits 2.

/** A problem with what the user gave the CLI; the message names the file or the option. */
export class CliInputError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'CliInputError';
  }
}
