/**
 * Stage-by-stage progress on stderr when it is a terminal; silent with --quiet or --json, and in
 * pipes, so CI logs and machine-read output stay clean. LAYERPKG_PROGRESS=1 asks for the stage
 * lines in a pipe too (a CI log that wants them; the crash-safety test times its kills by them).
 */
export interface Progress {
  stage(stage: string, message: string): void;
  warn(message: string): void;
}

export function createProgress(opts: { quiet: boolean; json: boolean }): Progress {
  const interactive = (process.stderr.isTTY || process.env.LAYERPKG_PROGRESS === '1') && !opts.quiet && !opts.json;
  return {
    stage(stage, message) {
      if (interactive) process.stderr.write(`[${stage}] ${message}\n`);
    },
    warn(message) {
      if (!opts.quiet && !opts.json) process.stderr.write(`layerpkg: warning: ${message}\n`);
    },
  };
}
