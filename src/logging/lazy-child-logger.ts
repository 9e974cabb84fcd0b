import type { FastifyBaseLogger } from "fastify";

type Bindings = Parameters<FastifyBaseLogger["child"]>[0];
type ChildOptions = Parameters<FastifyBaseLogger["child"]>[1];
type LogArgs = Parameters<FastifyBaseLogger["info"]>;

/**
 * A request logger that creates its pino child only when something logs.
 * Fastify builds one child logger (bound to the request id) per request;
 * with Gatehouse's redaction rules that costs more than the rest of a cached
 * session check, and almost no request ever logs through it. The first call
 * creates the real child with the same bindings and options, so a line
 * logged through it is identical to one from an eager child.
 */
export class LazyChildLogger implements FastifyBaseLogger {
  #parent: FastifyBaseLogger;
  #bindings: Bindings;
  #options: ChildOptions;
  #child: FastifyBaseLogger | null = null;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #real(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  get level(): FastifyBaseLogger["level"] {
    return this.#child?.level ?? this.#options?.level ?? this.#parent.level;
  }

  set level(value: FastifyBaseLogger["level"]) {
    this.#real().level = value;
  }

  fatal(...args: LogArgs): void {
    this.#real().fatal(...args);
  }
  error(...args: LogArgs): void {
    this.#real().error(...args);
  }
  warn(...args: LogArgs): void {
    this.#real().warn(...args);
  }
  info(...args: LogArgs): void {
    this.#real().info(...args);
  }
  debug(...args: LogArgs): void {
    this.#real().debug(...args);
  }
  trace(...args: LogArgs): void {
    this.#real().trace(...args);
  }
  silent(...args: LogArgs): void {
    this.#real().silent(...args);
  }
  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}

/** A Fastify `childLoggerFactory` returning {@link LazyChildLogger}s. */
export function lazyChildLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options);
}
