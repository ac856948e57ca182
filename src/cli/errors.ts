export class UsageError extends Error {
  override name = "UsageError";
  constructor(
    message: string,
    readonly quiet = false,
  ) {
    super(message);
  }
}
