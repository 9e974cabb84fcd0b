import type { FastifyBaseLogger, FastifyReply } from "fastify";
import type { FastifyReplyFromHooks, FastifyReplyFromOptions } from "@fastify/reply-from";

type From = (this: FastifyReply, source: string, options: FastifyReplyFromHooks) => FastifyReply;
type Done = (err?: Error) => void;

/** `reply.from` of `@fastify/reply-from`, loaded on the first forwarded request. */
export interface LazyReplyFrom {
  /** Forwards like `reply.from(source, options)`; the first call loads the library. */
  from(reply: FastifyReply, source: string, options: FastifyReplyFromHooks): Promise<FastifyReply>;
  /** Closes the library's upstream connection pools, if it was ever loaded. */
  close(): Promise<void>;
}

/**
 * `@fastify/reply-from` without loading it at start: the library and its
 * HTTP client, undici, hold ~5 MB of heap (sources, a WebAssembly parser)
 * that a server nobody has proxied through yet does not need
 * (docs/performance.md). The plugin function is run on the first forwarded
 * request against a stand-in for the one Fastify instance API it uses at
 * registration (`decorateReply("from")`, an `onReady` warning hook, `onClose`
 * for its pools); the forwarding itself is the library's own, unchanged.
 * An unexpected use of the instance fails the first forward (tests cover it)
 * instead of silently changing behaviour.
 */
export function createLazyReplyFrom(options: FastifyReplyFromOptions, log: FastifyBaseLogger): LazyReplyFrom {
  let loaded: Promise<{ from: From; close: () => Promise<void> }> | null = null;

  async function load(): Promise<{ from: From; close: () => Promise<void> }> {
    const plugin = (await import("@fastify/reply-from")).default as unknown as (instance: unknown, opts: FastifyReplyFromOptions, done: Done) => void;
    let from: From | undefined;
    let onClose: ((instance: unknown, done: () => void) => void) | undefined;
    const instance = {
      log,
      decorateReply(name: string, value: From) {
        if (name !== "from") throw new Error(`@fastify/reply-from: unexpected reply decorator ${name}`);
        from = value;
      },
      // Its only hook warns when @fastify/multipart is registered, which Gatehouse never does.
      addHook(name: string) {
        if (name !== "onReady") throw new Error(`@fastify/reply-from: unexpected hook ${name}`);
      },
      hasPlugin: () => false,
      onClose(handler: (instance: unknown, done: () => void) => void) {
        onClose = handler;
      },
    };
    await new Promise<void>((resolve, reject) => plugin(instance, options, (err) => (err ? reject(err) : resolve())));
    if (from === undefined) throw new Error("@fastify/reply-from did not decorate reply.from");
    const fromFn = from;
    return {
      from: fromFn,
      close: () => new Promise<void>((resolve) => (onClose ? onClose(instance, resolve) : resolve())),
    };
  }

  return {
    async from(reply, source, hooks) {
      const { from } = await (loaded ??= load());
      return from.call(reply, source, hooks);
    },
    async close() {
      if (loaded === null) return;
      const library = await loaded.catch(() => null);
      await library?.close();
    },
  };
}
