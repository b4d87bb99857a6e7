/** Small helpers shared by the project's command-line scripts. */

/** An expected failure: its message is shown as is (no stack trace) and the process exits 1. */
export class CliError extends Error {
  override name = "CliError";
}

/**
 * Runs a script's main function: a CliError prints `error: <message>`, anything else prints its
 * stack (a bug), and both exit 1. The exit code of a successful run is the function's result.
 */
export function runMain(main: () => Promise<number | undefined>): void {
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (error: unknown) => {
      if (error instanceof CliError) console.error(`error: ${error.message}`);
      else console.error(error);
      process.exitCode = 1;
    },
  );
}
