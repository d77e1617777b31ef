/**
 * Child processes of the demo (Prometheus, promgate): started in their own process group with
 * their output going to a log file, polled until ready, stopped with SIGTERM (then SIGKILL).
 * Every child is registered so that whatever is still running when the demo exits — normally,
 * by an error, or after Ctrl-C — is killed, never left behind.
 *
 * Children get their own process group on purpose: Ctrl-C in a terminal signals the whole
 * foreground group, and the demo wants to stop its children itself, in order, once.
 *
 * @example
 * ```ts
 * const prom = await startChild({
 *   name: 'prometheus',
 *   command: '/usr/bin/prometheus',
 *   args: ['--config.file=prometheus.yml'],
 *   logFile: '/tmp/demo/prometheus.log',
 *   readyUrl: 'http://127.0.0.1:9090/-/ready',
 * });
 * await prom.stop();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SpawnChildOptions {
  /** Shown in messages, e.g. `prometheus`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** stdout and stderr are appended to this file. */
  readonly logFile: string;
}

export interface StartChildOptions extends SpawnChildOptions {
  /** Polled with GET until it answers 2xx. */
  readonly readyUrl: string;
  /** Default 60 s (a busy 2-core machine starts Prometheus slowly). */
  readonly readyTimeoutMs?: number;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Whether the process has exited. */
  readonly exited: boolean;
  /** Resolves when the process exits (also when it dies unexpectedly). */
  readonly exit: Promise<ExitStatus>;
  /** SIGTERM, SIGKILL after `graceMs` (default 10 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<ExitStatus>;
  /**
   * Polls `url` until it answers 2xx (default timeout 60 s). Throws {@link ChildStartError}
   * if the process exits first or is not ready in time (then it is killed).
   */
  waitReady(url: string, timeoutMs?: number): Promise<void>;
}

/** A child that exited or never became ready; `log` is the tail of its output. */
export class ChildStartError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(`${message}\n--- last lines of its log ---\n${log}`);
    this.name = 'ChildStartError';
  }
}

const live = new Set<ChildProcess>();
let hooked = false;

/** SIGKILLs every child still running, synchronously (usable in an `exit` handler). */
export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

/** The last `bytes` of a file, for error messages. */
export function tail(file: string, bytes = 4000): string {
  let fd: number | undefined;
  try {
    const size = statSync(file).size;
    const len = Math.min(size, bytes);
    const buf = Buffer.alloc(len);
    fd = openSync(file, 'r');
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8').trimEnd();
  } catch {
    return '(no output)';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Starts a process without waiting for it; `waitReady` then polls its ready URL. Lets the
 * demo start slow children side by side.
 */
export function spawnChild(opts: SpawnChildOptions): Child {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAllChildren);
  }
  const out = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.command, [...opts.args], {
      cwd: opts.cwd,
      stdio: ['ignore', out, out],
      detached: true,
    });
  } finally {
    closeSync(out); // the child holds its own copy
  }
  live.add(child);

  let exited = false;
  const exit = new Promise<ExitStatus>((resolve) => {
    const done = (status: ExitStatus): void => {
      exited = true;
      live.delete(child);
      resolve(status);
    };
    child.once('exit', (code, signal) => done({ code, signal }));
    // A command that cannot be spawned: say why in its log, where errors are looked for.
    child.once('error', (err) => {
      appendFileSync(opts.logFile, `\n[demo] cannot run ${opts.command}: ${err.message}\n`);
      done({ code: null, signal: null });
    });
  });

  const stop = async (graceMs = 10_000): Promise<ExitStatus> => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    }
    return exit;
  };

  const waitReady = async (url: string, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (exited) {
        const st = await exit;
        throw new ChildStartError(
          `${opts.name} (${opts.command}) exited (code ${st.code}, signal ${st.signal}) ` +
            'before it was ready',
          tail(opts.logFile),
        );
      }
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        await stop(1000);
        throw new ChildStartError(
          `${opts.name} was not ready at ${url} within ${timeoutMs / 1000} s (last: ${last})`,
          tail(opts.logFile),
        );
      }
      await sleep(100);
    }
  };

  return {
    name: opts.name,
    pid: child.pid ?? -1,
    logFile: opts.logFile,
    get exited() {
      return exited;
    },
    exit,
    stop,
    waitReady,
  };
}

/**
 * Starts a process and waits until `readyUrl` answers 2xx. Throws {@link ChildStartError}
 * (after killing it) if it exits first or is not ready in time.
 */
export async function startChild(opts: StartChildOptions): Promise<Child> {
  const child = spawnChild(opts);
  await child.waitReady(opts.readyUrl, opts.readyTimeoutMs);
  return child;
}

/** Whether a start failed because the port was taken (worth a retry on another port). */
export function portTaken(err: unknown): boolean {
  return err instanceof ChildStartError && /address already in use|EADDRINUSE/i.test(err.log);
}

/** Runs a command to completion; resolves with its exit code and output (never throws on exit codes). */
export function runCommand(
  command: string,
  args: readonly string[],
  opts: { readonly timeoutMs?: number; readonly cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}
