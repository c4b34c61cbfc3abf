/** An error the user can fix; printed without a stack trace, exiting with `exitCode`. */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
