/**
 * The namespace informer: keeps every namespace's name and labels in memory with client-node's
 * `makeInformer` (paginated list, then watch from the list's resourceVersion with bookmarks and a
 * server-side `timeoutSeconds`; a `410 Gone` — event or HTTP — relists), so that project and rbac
 * scopes cost no API call per request (REFERENCE §4.5, §4.6).
 *
 * client-node's informer *stops for good* on any other error (a failed list, a watch status, a
 * network error), and `start()` resolves even when the list failed. So this class restarts it
 * with exponential backoff, and tracks:
 * - `synced()`: the list succeeded and the watch has not failed since (the
 *   `promgate_namespace_informer_synced` gauge);
 * - a watchdog restarts a watch that has not (re)connected for longer than its server-side
 *   timeout allows (a silently dead connection would otherwise look synced forever);
 * - `fresh()`: synced, or broken for less than `staleToleranceMs` after having synced — scopes
 *   are computed only while fresh (else the resolver answers 503, never an empty scope), and
 *   `/readyz` follows it, so a short API-server blip does not take every replica out at once.
 *
 * @example
 *   const informer = new NamespaceInformer(api, { projectLabel: 'field.cattle.io/projectId',
 *     pageSize: 500, staleToleranceMs: 30_000 }, { metrics, logger });
 *   informer.start();
 *   await informer.waitForSync(10_000);
 *   informer.namespacesInProject('p-abc'); // ['team-a', 'team-b']
 */
import {
  makeInformer,
  type Informer,
  type ObjectCache,
  type V1Namespace,
  type V1NamespaceList,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeApi } from '../auth/kubernetes/client.js';
import { KubeApiError } from '../auth/kubernetes/client.js';
import type { Metrics } from '../metrics.js';

export interface NamespaceInformerOptions {
  /** Label whose value names a namespace's project. */
  readonly projectLabel: string;
  readonly pageSize: number;
  readonly staleToleranceMs: number;
  /** Restart backoff after an error: first delay and cap (default 250 ms, 30 s). */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Server-side watch timeout; default a random 300–599 s (as client-go). */
  readonly watchTimeoutSeconds?: number;
  /**
   * A watch that has not (re)connected for this long is presumed silently dead (a network
   * partition without a reset) and restarted. Default: the watch timeout + 60 s.
   */
  readonly watchSilenceMs?: number;
  readonly now?: () => number;
}

interface Snapshot {
  readonly generation: number;
  readonly names: readonly string[];
  readonly projectOf: ReadonlyMap<string, string>;
  readonly byProject: ReadonlyMap<string, readonly string[]>;
}

const MAX_PAGES = 10_000;

/** A log-safe description of whatever client-node's informer emitted as an error. */
function describe(err: unknown): string {
  if (err instanceof KubeApiError) return err.message;
  if (err instanceof Error) {
    const status = (err as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number') return `namespace watch: HTTP ${status}`;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) {
      return `namespace watch: network error ${code}`;
    }
    return `namespace watch: ${err.name}`;
  }
  return 'namespace watch: unexpected error';
}

export class NamespaceInformer {
  private readonly informer: Informer<V1Namespace> & ObjectCache<V1Namespace>;
  private readonly now: () => number;
  private generationCounter = 0;
  private snapshot: Snapshot | undefined;
  private isSynced = false;
  private everSynced = false;
  private lostAt = -Infinity;
  private stopped = true;
  private attempt = 0;
  private errorInAttempt = false;
  private lists = 0;
  private delayMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastConnectAt = 0;
  private readonly silenceMs: number;
  /** Set while the watchdog restarts the informer: the abort it causes is not an error. */
  private restarting: { readonly abortSeen: () => void } | undefined;
  private readonly syncWaiters = new Set<() => void>();

  constructor(
    private readonly api: Pick<KubeApi, 'kubeConfig' | 'listNamespaces'>,
    private readonly options: NamespaceInformerOptions,
    private readonly deps: {
      readonly metrics: Pick<Metrics, 'informerSynced' | 'informerEvents'>;
      readonly logger: Logger;
    },
  ) {
    this.now = options.now ?? Date.now;
    this.delayMs = options.backoffInitialMs ?? 250;
    const timeout = options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    this.silenceMs = options.watchSilenceMs ?? (timeout + 60) * 1000;
    this.informer = makeInformer(
      api.kubeConfig,
      `/api/v1/namespaces?allowWatchBookmarks=true&timeoutSeconds=${timeout}`,
      () => this.listAll(),
    );
    const changed = (type: 'add' | 'update' | 'delete') => (): void => {
      this.generationCounter++;
      deps.metrics.informerEvents.inc({ type });
    };
    this.informer.on('add', changed('add'));
    this.informer.on('update', changed('update'));
    this.informer.on('delete', changed('delete'));
    this.informer.on('error', (err: unknown) => this.onError(err));
    // Emitted before every list and every watch request, including client-node's own
    // reconnects after the server ends a watch (timeoutSeconds).
    this.informer.on('connect', () => {
      this.lastConnectAt = this.now();
    });
    deps.metrics.informerSynced.set(0);
  }

  /** Starts listing and watching (returns at once; see {@link waitForSync}). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.lastConnectAt = this.now();
    this.watchdog = setInterval(
      () => this.checkWatch(),
      Math.max(10, Math.min(this.silenceMs / 4, 30_000)),
    );
    this.watchdog.unref();
    void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.setSynced(false);
    await this.informer.stop();
  }

  /** The list succeeded and the watch has not failed since. */
  synced(): boolean {
    return this.isSynced;
  }

  /** Synced, or broken for at most `staleToleranceMs` after having synced. */
  fresh(): boolean {
    if (this.isSynced) return true;
    return this.everSynced && this.now() - this.lostAt <= this.options.staleToleranceMs;
  }

  /** Resolves true once synced, false after `timeoutMs`. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.isSynced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.syncWaiters.delete(done);
        resolve(this.isSynced);
      };
      const timer = setTimeout(done, timeoutMs);
      this.syncWaiters.add(done);
    });
  }

  /** Changes with every namespace add / update / delete: a cheap validity key for derived caches. */
  get generation(): number {
    return this.generationCounter;
  }

  /** All namespace names, sorted. */
  names(): readonly string[] {
    return this.current().names;
  }

  has(name: string): boolean {
    return this.informer.get(name) !== undefined;
  }

  /** The namespace's project label value, if it has one (non-empty). */
  projectOf(name: string): string | undefined {
    return this.current().projectOf.get(name);
  }

  /** Sorted names of the namespaces whose project label equals `project`. */
  namespacesInProject(project: string): readonly string[] {
    return this.current().byProject.get(project) ?? [];
  }

  private current(): Snapshot {
    if (this.snapshot?.generation === this.generationCounter) return this.snapshot;
    const names: string[] = [];
    const projectOf = new Map<string, string>();
    const byProject = new Map<string, string[]>();
    for (const ns of this.informer.list()) {
      const name = ns.metadata?.name;
      if (!name) continue;
      names.push(name);
      const project = ns.metadata?.labels?.[this.options.projectLabel];
      if (project) {
        projectOf.set(name, project);
        let members = byProject.get(project);
        if (!members) byProject.set(project, (members = []));
        members.push(name);
      }
    }
    names.sort();
    for (const members of byProject.values()) members.sort();
    this.snapshot = { generation: this.generationCounter, names, projectOf, byProject };
    return this.snapshot;
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    const attempt = ++this.attempt;
    this.errorInAttempt = false;
    await this.informer.start();
    if (this.stopped || attempt !== this.attempt || this.errorInAttempt) return;
    // start() resolves after the list and once the watch answered 200 — or after an error,
    // which onError saw. No error: the cache is current.
    this.delayMs = this.options.backoffInitialMs ?? 250;
    this.setSynced(true);
  }

  /** The watchdog: restart a watch that went silent without ever ending. */
  private checkWatch(): void {
    if (this.stopped || this.restarting || !this.isSynced) return;
    if (this.now() - this.lastConnectAt <= this.silenceMs) return;
    this.deps.metrics.informerEvents.inc({ type: 'error' });
    this.deps.logger.warn(
      { silentForMs: this.now() - this.lastConnectAt },
      'kubernetes: namespace watch silent for too long; restarting it',
    );
    this.lostAt = this.now();
    this.setSynced(false);
    void this.restart();
  }

  private async restart(): Promise<void> {
    // client-node reports the abort of its watch as an error, a little later: wait for it, so
    // that it cannot abort the new watch or schedule a second restart.
    const abortSeen = new Promise<void>((resolve) => {
      this.restarting = { abortSeen: resolve };
      setTimeout(resolve, 1000).unref();
    });
    await this.informer.stop();
    await abortSeen;
    this.restarting = undefined;
    if (this.stopped) return;
    this.lastConnectAt = this.now();
    void this.run();
  }

  private onError(err: unknown): void {
    if (this.restarting) {
      this.restarting.abortSeen();
      return;
    }
    if (this.stopped) return; // stop() aborts the watch, which client-node reports as an error
    this.errorInAttempt = true;
    if (this.isSynced) this.lostAt = this.now();
    this.setSynced(false);
    this.deps.metrics.informerEvents.inc({ type: 'error' });
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.options.backoffMaxMs ?? 30_000);
    this.deps.logger.warn(
      { error: describe(err), retryInMs: delay },
      'kubernetes: namespace informer stopped; restarting',
    );
    if (this.restartTimer) clearTimeout(this.restartTimer);
    // Jitter, so that replicas do not relist in lockstep.
    this.restartTimer = setTimeout(() => void this.run(), delay * (0.8 + Math.random() * 0.4));
    this.restartTimer.unref();
  }

  private setSynced(value: boolean): void {
    this.isSynced = value;
    if (value) this.everSynced = true;
    this.deps.metrics.informerSynced.set(value ? 1 : 0);
    if (value) for (const wake of [...this.syncWaiters]) wake();
  }

  /** Lists every namespace page by page; an expired `continue` restarts the list (bounded). */
  private async listAll(): Promise<V1NamespaceList> {
    if (++this.lists > 1) this.deps.metrics.informerEvents.inc({ type: 'relist' });
    const items: V1Namespace[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    let restarts = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      let list: V1NamespaceList;
      try {
        list = await this.api.listNamespaces({
          limit: this.options.pageSize,
          ...(cont !== undefined ? { continue: cont } : {}),
        });
      } catch (err) {
        if (
          err instanceof KubeApiError &&
          err.status === 410 &&
          cont !== undefined &&
          restarts < 3
        ) {
          restarts++;
          items.length = 0;
          cont = undefined;
          resourceVersion = undefined;
          continue;
        }
        throw err;
      }
      // A paginated list is one snapshot, at the first page's resourceVersion.
      resourceVersion ??= list.metadata?.resourceVersion;
      items.push(...list.items);
      cont = list.metadata?._continue || undefined;
      if (cont === undefined) {
        return { apiVersion: 'v1', kind: 'NamespaceList', metadata: { resourceVersion }, items };
      }
    }
    throw new KubeApiError('namespace list', undefined, 'TooManyPages', 'too many pages');
  }
}
