import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = join(import.meta.dirname, "..", "..");

interface ComposeService {
  image?: string;
  build?: string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  secrets?: string[];
  ports?: string[];
  read_only?: boolean;
  networks?: string[];
  stop_grace_period?: string;
}

describe("compose.yaml: Gatehouse with PostgreSQL 16 and Redis 7", () => {
  const compose = parse(readFileSync(join(ROOT, "compose.yaml"), "utf8")) as {
    services: Record<string, ComposeService>;
    secrets: Record<string, { file: string }>;
    networks: Record<string, { internal?: boolean }>;
  };
  const { gatehouse, postgres, redis } = compose.services;

  it("pins the major versions and health-checks both backends; Gatehouse starts only once they are healthy", () => {
    expect(postgres?.image).toBe("postgres:16");
    expect(redis?.image).toBe("redis:7");
    expect(postgres?.healthcheck?.test.join(" ")).toContain("pg_isready");
    expect(redis?.healthcheck?.test).toEqual(["CMD", "redis-cli", "ping"]);
    expect(gatehouse?.depends_on).toEqual({ postgres: { condition: "service_healthy" }, redis: { condition: "service_healthy" } });
    expect(gatehouse?.build).toBe(".");
  });

  it("passes secrets as files (*_FILE), never as values, and every secret it names is declared", () => {
    const env = gatehouse?.environment ?? {};
    expect(env.SECRET_KEY_FILE).toBe("/run/secrets/secret_key");
    expect(env.DATABASE_URL_FILE).toBe("/run/secrets/database_url");
    expect(env).not.toHaveProperty("SECRET_KEY");
    expect(env).not.toHaveProperty("DATABASE_URL");
    expect(postgres?.environment?.POSTGRES_PASSWORD_FILE).toBe("/run/secrets/postgres_password");
    for (const name of [...(gatehouse?.secrets ?? []), ...(postgres?.secrets ?? [])]) expect(compose.secrets[name]?.file, name).toMatch(/^\.\/secrets\//);
  });

  it("runs Gatehouse read-only, published on loopback only, with the backends on an internal network and a stop grace longer than SHUTDOWN_TIMEOUT", () => {
    expect(gatehouse?.read_only).toBe(true);
    expect(gatehouse?.ports?.every((p) => p.startsWith("127.0.0.1:"))).toBe(true);
    expect(compose.networks.back?.internal).toBe(true);
    expect(postgres?.networks).toEqual(["back"]);
    expect(redis?.networks).toEqual(["back"]);
    expect(postgres).not.toHaveProperty("ports");
    expect(redis).not.toHaveProperty("ports");
    expect(parseInt(gatehouse?.stop_grace_period ?? "0", 10)).toBeGreaterThan(parseInt(gatehouse?.environment?.SHUTDOWN_TIMEOUT ?? "10", 10));
  });
});

describe("deploy/gatehouse.service", () => {
  const unit = readFileSync(join(ROOT, "deploy", "gatehouse.service"), "utf8");

  it("runs the compiled server as an unprivileged user with the data dir its only writable path", () => {
    for (const line of ["User=gatehouse", "ExecStart=/usr/bin/node dist/main.js", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/gatehouse", "Environment=GATEHOUSE_DATA_DIR=/var/lib/gatehouse", "CapabilityBoundingSet=", "KillSignal=SIGTERM"])
      expect(unit.split("\n"), line).toContain(line);
    // V8's JIT needs writable and executable memory.
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
    expect(Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1])).toBeGreaterThan(10);
  });

  it("is a valid unit for systemd-analyze verify (systemd 252), with no unknown keys", () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-unit-"));
    try {
      copyFileSync(join(ROOT, "deploy", "gatehouse.service"), join(dir, "gatehouse.service"));
      const run = spawnSync("systemd-analyze", ["verify", join(dir, "gatehouse.service")], { encoding: "utf8" });
      expect(run.error, "systemd-analyze is needed (Debian package systemd)").toBeUndefined();
      expect(`${run.stdout}${run.stderr}`).toBe("");
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
