// The CLI's two kinds of failure, each with its exit code (chatty.ts prints them in one line).
/** A mistake in how the command was called: one line on stderr, exit code 2. */
export class UsageError extends Error {}

/** Something the user can fix (port in use, name taken…): one line on stderr, exit code 1. */
export class CliError extends Error {}
