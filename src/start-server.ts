// The server itself, loaded by src/main.ts once V8's young generation is held small.
import pino from "pino";
import { createGatehouse } from "./compose.js";
import { EnvFileError, loadEnvironment } from "./config/env-file.js";
import { ConfigError, loadConfig } from "./config/load-config.js";
import { didYouMean, unknownVariables } from "./config/unknown-variables.js";
import { loggerOptions } from "./logging/logger-options.js";
import { createGracefulShutdown } from "./runtime/graceful-shutdown.js";

async function main(): Promise<void> {
  let config;
  let loaded;
  try {
    // `.env` in the working directory (or GATEHOUSE_ENV_FILE) under the real environment, which always wins.
    loaded = loadEnvironment(process.env, process.cwd());
    config = loadConfig(loaded.env);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof EnvFileError) {
      process.stderr.write(`gatehouse: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const logger = pino(loggerOptions(config.logLevel));
  // Names only, never values: the file holds secrets.
  if (loaded.path !== null) logger.info({ file: loaded.path, variables: loaded.fromFile.size }, "read settings from the .env file");
  for (const unknown of unknownVariables(loaded.env)) {
    logger.warn({ variable: unknown.name, suggestion: unknown.suggestion }, `${unknown.name} is not a Gatehouse setting and is ignored${didYouMean(unknown)}`);
  }
  if (config.secretKeySource === "generated") {
    logger.warn({ dataDir: config.dataDir }, "no SECRET_KEY set: generated one into the data dir (development only)");
  }
  const gatehouse = await createGatehouse({ config, logger });
  // Session purge and audit pruning; stopped by close().
  gatehouse.start();

  // Stop accepting, drain in-flight requests up to SHUTDOWN_TIMEOUT, close WebSockets (1001), the database and Redis.
  const shutdown = createGracefulShutdown({
    close: () => gatehouse.close(),
    server: gatehouse.app.server,
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    exit: (code) => process.exit(code),
  });
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  // Re-read the access rules (GATEHOUSE_CONFIG) in place; a bad file keeps the old rules and logs why.
  process.on("SIGHUP", () => gatehouse.reloadRules());
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));

  const first = await gatehouse.firstSuperadmin
    .ensure(config.admin ? { username: config.admin.username, password: config.admin.password, email: config.admin.email ?? undefined } : null)
    .catch((err: unknown) => {
      // The seed credentials are checked like any registration; say which variable to fix, never its value.
      throw new Error(`GATEHOUSE_ADMIN_*: cannot create the first superadmin: ${err instanceof Error ? err.message : String(err)}`);
    });
  if (first.status === "seeded") logger.info({ username: first.username }, "created the first superadmin from GATEHOUSE_ADMIN_*");
  await gatehouse.app.listen({ port: config.port, host: config.host });
  // METRICS_PORT: /metrics on a listener of its own (and not on the main port).
  if (gatehouse.metricsServer !== null && config.metrics.port !== null) {
    await gatehouse.metricsServer.listen({ port: config.metrics.port, host: config.metrics.host });
    logger.info({ listen: `${config.metrics.host}:${config.metrics.port}` }, "Prometheus metrics are served on a separate listener");
  }
  if (first.status === "setup") {
    // The link is a secret: printed once to the console, never through the structured log.
    process.stderr.write(
      `\n  No superadmin exists yet. Open this one-time link within 60 minutes to create one:\n\n    ${config.publicUrl}/setup#token=${first.token}\n\n`,
    );
  }
  logger.info(
    { url: config.publicUrl, database: gatehouse.database.dialect, listen: `${config.host}:${config.port}` },
    `Gatehouse is running at ${config.publicUrl}`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`gatehouse: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
