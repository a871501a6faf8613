/** One command the session's shell ran, as its OSC 133 marks delimit it (see shell-marks.ts). */
export interface ShellCommandRecord {
  /** 1, 2, 3… per session, in order of command start (OSC 133 C). */
  seq: number;
  /** From OSC 133 D;<code>; null while running or if the shell gave none. */
  exitCode: number | null;
  /** Text printed between C and D, ANSI and marks stripped, bounded (the last 64 KB). */
  output: string;
  /** Date.now() at C. */
  startedAt: number;
  /** Date.now() at D. */
  endedAt?: number;
}
