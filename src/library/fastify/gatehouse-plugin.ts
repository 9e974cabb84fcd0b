import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { composeGatehouse, runWithApp, type GatehouseCore } from "../../compose.js";
import { registerGatehouse } from "../../http/app.js";
import { createPipelineSteps } from "../../http/pipeline/pipeline-steps.js";
import type { PipelineEntry } from "../../http/pipeline/use-pipeline.js";
import { asArray } from "../../http/pipeline/use-pipeline.js";
import { sessionCookieName, useSsoSeal } from "../../http/plugins/session-cookie.js";
import type { Database } from "../../storage/sql/database.js";
import type { Kysely } from "kysely";
import type { GatehouseSession, GatehouseUser } from "./gatehouse-user.js";
import { createHostGuards, type GatehouseGuard } from "./host-guards.js";
import { normalizePrefix, pluginConfig, type GatehouseOptions } from "./plugin-options.js";
import type { Access } from "../../http/types.js";

/** What the plugin decorates the host instance with (`app.gatehouse`). */
export interface GatehouseDecorator {
  /** Where Gatehouse's API and pages are mounted ("" or e.g. "/auth"). */
  prefix: string;
  /** 401 without a signed-in user (`@fastify/auth`-compatible: denials go to `done(err)`). */
  requireUser: GatehouseGuard;
  /** 401 without a signed-in user, 403 below `role`; higher roles pass. */
  requireRole: (role: Exclude<Access, "public">) => GatehouseGuard;
  /** Resolves `request.user` / `request.session` when signed in; lets anonymous requests through. */
  resolveUser: GatehouseGuard;
  /** The sign-in page of the plugin, returning to `returnTo` (a local path) afterwards. */
  loginUrl(returnTo?: string): string;
  /** Gatehouse's services (accounts, sessions, admin, audit…), for host code that needs more than the guards. */
  services: GatehouseCore;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The signed-in user, set by a Gatehouse guard on a route that opted in; null otherwise. */
    user: GatehouseUser | null;
    /** The session of the request, set by a Gatehouse guard; null otherwise (and for an API token). */
    session: GatehouseSession | null;
  }
  interface FastifyInstance {
    /** The Gatehouse plugin's guards and services (src/library/fastify). */
    gatehouse: GatehouseDecorator;
  }
}

/** Marks the guard hooks the plugin added, so a route copied by Fastify (its HEAD twin) is not given them twice. */
const made = new WeakSet<object>();

async function gatehousePlugin(host: FastifyInstance, options: GatehouseOptions): Promise<void> {
  const prefix = normalizePrefix(options.prefix);
  const config = pluginConfig(options);
  const core = await composeGatehouse({
    config,
    logger: host.log,
    ...options.overrides,
    ...(options.database ? { database: { db: options.database.db as Kysely<Database>, dialect: options.database.dialect } } : {}),
  });
  try {
    useSsoSeal(config, core.appDeps.secretBox);
    const steps = createPipelineSteps(core.appDeps, prefix);
    const pipeline: PipelineEntry[] = [];
    // Host-level request decorations: what guards resolve (`auth` is Gatehouse's internal form of it).
    host.decorateRequest("auth", null);
    host.decorateRequest("user", null);
    host.decorateRequest("session", null);

    // Gatehouse's own API and pages, in a context of their own: its error handler, body parser, security headers
    // and hooks stay there, and the host's routes never see them.
    await host.register(
      async function gatehouseRoutes(context) {
        context.decorateRequest("basePath", prefix);
        // The server's body limit is a server option; here it is each of Gatehouse's routes'.
        context.addHook("onRoute", (route) => {
          route.bodyLimit ??= config.bodyLimit;
        });
        await registerGatehouse(context, core.appDeps, steps, pipeline, { forwardAuth: false, notFound: prefix !== "", basePath: prefix });
      },
      { prefix },
    );

    const guards = createHostGuards({
      steps,
      gate: core.gate,
      prefix,
      cookieName: sessionCookieName(config),
      // The attributes of clearSessionCookie (src/http/plugins/session-cookie.ts), written by hand: the host may not use @fastify/cookie.
      expiredCookie: `${sessionCookieName(config)}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax${config.secure ? "; Secure" : ""}`,
    });
    // The host's opt-in: only a route that declares `config.access` gets a hook (added after Gatehouse's own
    // routes, so they are not seen here). Routes registered before the plugin are not seen either.
    host.addHook("onRoute", (route) => {
      const guard = guards.forRoute(route);
      if (guard === null) return;
      const own = asArray(route.onRequest).filter((hook) => !made.has(hook));
      made.add(guard);
      route.onRequest = [guard, ...own];
    });
    host.decorate("gatehouse", {
      prefix,
      requireUser: guards.requireUser,
      requireRole: guards.requireRole,
      resolveUser: guards.resolveUser,
      loginUrl: (returnTo?: string) => `${prefix}/login${returnTo === undefined ? "" : `?return=${encodeURIComponent(core.gate.safeReturnUrl(returnTo))}`}`,
      services: core,
    } satisfies GatehouseDecorator);

    runWithApp(host, core);
    if (options.housekeeping !== false) host.addHook("onReady", async () => core.start());
    // What the plugin opened (never the host's Kysely instance) closes with the host.
    host.addHook("onClose", async () => core.close());
  } catch (err) {
    await core.close();
    throw err;
  }
}

/**
 * Gatehouse as a Fastify plugin (library mode): accounts, sessions, roles,
 * second factors and rate limits inside a Node app, with Gatehouse's API
 * and pages under `prefix` and guards for the host's own routes. Register
 * it (awaited) before the routes it guards. See docs/library.md.
 *
 * @example
 * await app.register(gatehouse, { prefix: "/auth", env: { SECRET_KEY, PUBLIC_URL, DATABASE_URL } });
 * app.get("/dashboard", { config: { access: "user" } }, async (request) => ({ hello: request.user?.username }));
 */
export const gatehouse = fp(gatehousePlugin, { fastify: "5.x", name: "gatehouse" });
