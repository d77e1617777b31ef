/**
 * Child processes for end-to-end tests: start one, wait until it is ready, keep its output
 * for failure messages, and stop it (SIGTERM, then SIGKILL). Every process started here is
 * registered: whatever a test forgets to stop is killed when the test file's process exits
 * (normally, by an uncaught error, or by SIGINT/SIGTERM), and live children never keep the
 * test process alive.
 *
 * @example
 * ```ts
 * import { after } from 'node:test';
 * import { startProcess } from '../support/index.js';
 * const proc = await startProcess({
 *   name: 'promgate',
 *   command: process.execPath,
 *   args: ['dist/main.js', '--upstream', prom.url, '--listen', `127.0.0.1:${port}`],
 *   readyUrl: `http://127.0.0.1:${metricsPort}/readyz`,
 * });
 * after(() => proc.stop());
 * // on failure: assert.fail(`promgate said:\n${proc.output()}`)
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StartProcessOptions {
  /** Shown in errors, e.g. `prometheus-3`. */
  readonly name: string;
  readonly command: string;
  readonly args?: readonly string[];
  readonly cwd?: string;
  /** Environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Polled with GET until it answers 2xx; without it the process counts as ready at once. */
  readonly readyUrl?: string;
  /** Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** Bytes of output kept (the tail), default 256 KiB. */
  readonly outputLimit?: number;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Captured stdout and stderr, interleaved as received (the tail, up to outputLimit). */
  output(): string;
  /** Whether the process has exited. */
  readonly exited: boolean;
  /** Resolves when the process exits. */
  readonly exit: Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

const live = new Set<ChildProcess>();
let hooked = false;

/** Kills every registered child with SIGKILL, synchronously (usable in an 'exit' handler). */
export function killAllSync(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAllSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/**
 * Starts a process and waits for readiness. Throws (after killing it) if it exits first or is
 * not ready in time; the error message carries the tail of its output.
 */
export async function startProcess(opts: StartProcessOptions): Promise<ManagedProcess> {
  hookExit();
  const limit = opts.outputLimit ?? 256 * 1024;
  let out = '';
  const child = spawn(opts.command, [...(opts.args ?? [])], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const append = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    if (out.length > limit * 2) out = out.slice(out.length - limit);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  let exited = false;
  const exit = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      append(Buffer.from(`\n[spawn error] ${err.message}\n`));
      exited = true;
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  // A running child must not keep the test process alive: the exit hook kills it instead.
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();

  const output = (): string => (out.length > limit ? out.slice(out.length - limit) : out);
  const stop = async (graceMs = 5000): Promise<ExitStatus> => {
    if (!exited) {
      // Unreferenced children do not keep the loop alive; awaiting one's exit must.
      child.ref();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      timer.unref();
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    }
    return exit;
  };
  const proc: ManagedProcess = {
    name: opts.name,
    pid: child.pid ?? -1,
    output,
    get exited() {
      return exited;
    },
    exit,
    stop,
  };

  if (opts.readyUrl) {
    const timeoutMs = opts.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (exited) {
        const st = await exit;
        throw new Error(
          `${opts.name} exited (code ${st.code}, signal ${st.signal}) before ${opts.readyUrl} was ready.\n` +
            `--- ${opts.name} output ---\n${output()}`,
        );
      }
      try {
        const res = await fetch(opts.readyUrl, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) break;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        await stop(1000);
        throw new Error(
          `${opts.name} was not ready at ${opts.readyUrl} within ${timeoutMs} ms (last: ${last}).\n` +
            `--- ${opts.name} output ---\n${output()}`,
        );
      }
      await sleep(50);
    }
  }
  return proc;
}

/**
 * Runs a command to completion and returns its output; throws with the output on a non-zero
 * exit or after `timeoutMs` (default 120 s).
 *
 * @example
 * ```ts
 * const { stdout } = await run('promtool', ['--version']);
 * ```
 */
export async function run(
  command: string,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  hookExit();
  const child = spawn(command, [...args], {
    cwd: opts.cwd,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const st = await new Promise<ExitStatus>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    if (st.code !== 0) {
      throw new Error(
        `${command} ${args.join(' ')} failed (code ${st.code}, signal ${st.signal}` +
          `${st.signal === 'SIGKILL' ? `, timeout ${timeoutMs} ms?` : ''}).\n${stdout}${stderr}`,
      );
    }
    return { stdout, stderr };
  } finally {
    clearTimeout(timer);
    live.delete(child);
  }
}
