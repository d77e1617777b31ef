/**
 * Value types of configuration options: each parses the text of a flag, an environment
 * variable or a YAML scalar, and says why a value is wrong in words an operator can act on.
 *
 * @example
 *   duration.parse('1h30m'); // 5400000 (milliseconds)
 *   bytes.parse('4MiB');     // 4194304
 *   hostPort.parse(':8080'); // { host: '0.0.0.0', port: 8080 }
 */
import { accessSync, constants, statSync } from 'node:fs';

/** Thrown by a value type; the message says why, the caller adds key and value. */
export class ValueError extends Error {}

export interface ValueType<T> {
  /** Placeholder shown in `--help` and the docs, e.g. `DURATION`. */
  readonly hint: string;
  parse(raw: string): T;
}

export const string: ValueType<string> = {
  hint: 'STRING',
  parse(raw) {
    if (raw === '') throw new ValueError('must not be empty');
    return raw;
  },
};

export function oneOf<const T extends string>(...choices: T[]): ValueType<T> {
  return {
    hint: choices.join('|'),
    parse(raw) {
      if ((choices as string[]).includes(raw)) return raw as T;
      throw new ValueError(`must be one of ${choices.map((c) => `"${c}"`).join(', ')}`);
    },
  };
}

export const boolean: ValueType<boolean> = {
  hint: 'BOOL',
  parse(raw) {
    const v = raw.toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new ValueError('must be true or false');
  },
};

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): ValueType<number> {
  return {
    hint: 'INT',
    parse(raw) {
      if (!/^-?\d+$/.test(raw)) throw new ValueError('must be a whole number');
      const n = Number(raw);
      if (n < min || n > max) {
        throw new ValueError(
          max === Number.MAX_SAFE_INTEGER
            ? `must be at least ${min}`
            : `must be between ${min} and ${max}`,
        );
      }
      return n;
    },
  };
}

const DURATION_UNITS: Record<string, number> = {
  y: 365 * 24 * 3600e3,
  w: 7 * 24 * 3600e3,
  d: 24 * 3600e3,
  h: 3600e3,
  m: 60e3,
  s: 1e3,
  ms: 1,
};
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Prometheus-style duration (`30s`, `1h30m`, `500ms`) or plain seconds (`2.5`), in milliseconds. */
export const duration: ValueType<number> = {
  hint: 'DURATION',
  parse(raw) {
    if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
    const m = DURATION.exec(raw);
    if (raw === '' || !m) {
      throw new ValueError(
        'must be a duration such as 30s, 2m, 1h30m or 500ms (units y w d h m s ms)',
      );
    }
    const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
    let ms = 0;
    units.forEach((u, i) => {
      const part = m[i + 1];
      if (part !== undefined) ms += Number(part) * (DURATION_UNITS[u] ?? 0);
    });
    return ms;
  },
};

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** A size: `1048576`, `512KiB`, `4MiB`, `1GB`. */
export const bytes: ValueType<number> = {
  hint: 'SIZE',
  parse(raw) {
    const m = /^(\d+(?:\.\d+)?) ?([a-zA-Z]*)$/.exec(raw);
    const unit = BYTE_UNITS[m?.[2]?.toLowerCase() ?? 'x'];
    if (!m || unit === undefined) {
      throw new ValueError('must be a size such as 1048576, 512KiB, 4MiB or 1GiB');
    }
    return Math.round(Number(m[1]) * unit);
  },
};

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces); port 0 picks a free port. */
export const hostPort: ValueType<HostPort> = {
  hint: 'HOST:PORT',
  parse(raw) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(raw);
    const port = Number(m?.[3]);
    if (!m || port > 65535) {
      throw new ValueError('must be HOST:PORT, [IPv6]:PORT or :PORT with a port from 0 to 65535');
    }
    const host = m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]);
    return { host, port };
  },
};

/** An http(s) base URL without credentials, query or fragment; a trailing slash is dropped. */
export const httpUrl: ValueType<URL> = {
  hint: 'URL',
  parse(raw) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ValueError('must be an absolute URL such as http://prometheus:9090');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ValueError('must use http or https');
    }
    if (url.username || url.password) {
      throw new ValueError(
        'must not contain credentials; use --upstream-bearer-file or --upstream-header',
      );
    }
    if (url.search || url.hash) throw new ValueError('must not have a query string or fragment');
    url.pathname = url.pathname.replace(/\/+$/, '');
    return url;
  },
};

/** A path to a readable regular file (checked at start-up). */
export const file: ValueType<string> = {
  hint: 'PATH',
  parse(raw) {
    if (raw === '') throw new ValueError('must not be empty');
    try {
      accessSync(raw, constants.R_OK);
      if (!statSync(raw).isFile()) throw new ValueError('is not a regular file');
    } catch (e) {
      if (e instanceof ValueError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new ValueError(
        code === 'ENOENT' ? 'file does not exist' : `file is not readable (${code ?? 'error'})`,
      );
    }
    return raw;
  },
};

/** A Prometheus label name in the legacy character set, not reserved (`__…`). */
export const labelName: ValueType<string> = {
  hint: 'LABEL',
  parse(raw) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(raw)) {
      throw new ValueError(
        'must be a label name: letters, digits and _, not starting with a digit',
      );
    }
    if (raw.startsWith('__')) throw new ValueError('names starting with __ are reserved');
    return raw;
  },
};

/** A Kubernetes label key: `[prefix/]name`. */
export const kubernetesLabelKey: ValueType<string> = {
  hint: 'KEY',
  parse(raw) {
    const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
    const DNS = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
    const slash = raw.indexOf('/');
    const prefix = slash < 0 ? undefined : raw.slice(0, slash);
    const name = slash < 0 ? raw : raw.slice(slash + 1);
    if (!NAME.test(name) || (prefix !== undefined && (!DNS.test(prefix) || prefix.length > 253))) {
      throw new ValueError('must be a Kubernetes label key such as field.cattle.io/projectId');
    }
    return raw;
  },
};

export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

const RESOURCE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `[GROUP/]RESOURCE`, e.g. `pods` or `metrics.k8s.io/pods`. */
export const groupResource: ValueType<GroupResource> = {
  hint: '[GROUP/]RESOURCE',
  parse(raw) {
    const slash = raw.lastIndexOf('/');
    const group = slash < 0 ? '' : raw.slice(0, slash);
    const resource = slash < 0 ? raw : raw.slice(slash + 1);
    if (!RESOURCE.test(resource) || (group !== '' && !RESOURCE.test(group))) {
      throw new ValueError(
        'must be [GROUP/]RESOURCE in lower case, e.g. pods or metrics.k8s.io/pods',
      );
    }
    return { group, resource };
  },
};

export const verb: ValueType<string> = {
  hint: 'VERB',
  parse(raw) {
    if (!/^([a-z]+|\*)$/.test(raw))
      throw new ValueError('must be a Kubernetes verb such as get or list');
    return raw;
  },
};

/** `VERB:[GROUP/]RESOURCE`, or `none` to switch the check off. */
export const permission: ValueType<(GroupResource & { readonly verb: string }) | null> = {
  hint: 'VERB:[GROUP/]RESOURCE|none',
  parse(raw) {
    if (raw === 'none') return null;
    const colon = raw.indexOf(':');
    if (colon < 0) {
      throw new ValueError('must be VERB:[GROUP/]RESOURCE such as get:namespaces, or none');
    }
    return { verb: verb.parse(raw.slice(0, colon)), ...groupResource.parse(raw.slice(colon + 1)) };
  },
};

/** Request headers promgate must own: setting them upstream would break the HTTP exchange. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'expect',
]);

/** `NAME=VALUE` for a header promgate sets on every upstream request. */
export const header: ValueType<readonly [string, string]> = {
  hint: 'NAME=VALUE',
  parse(raw) {
    const eq = raw.indexOf('=');
    const name = eq < 0 ? '' : raw.slice(0, eq).trim();
    const value = eq < 0 ? '' : raw.slice(eq + 1).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new ValueError('must be NAME=VALUE with a valid HTTP header name');
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new ValueError(`header ${name} is managed by promgate and cannot be set`);
    }
    if (/[\r\n\0]/.test(value)) throw new ValueError('header value must not contain line breaks');
    return [name, value] as const;
  },
};
