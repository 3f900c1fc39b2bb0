// A mistake in how a command was called (or configured): exit code 2 and the reason, not a stack trace.

export class UsageError extends Error {}
