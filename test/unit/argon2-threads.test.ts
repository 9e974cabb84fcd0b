import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.js";

const FAST = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/** Nice values of this process's threads (field 19 of /proc/self/task/<tid>/stat). */
function threadNiceValues(): number[] {
  return readdirSync("/proc/self/task").map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  });
}

describe("Argon2id on dedicated low-priority threads", () => {
  it("hashes and verifies like the libuv-pool hasher, and the two read each other's hashes", async () => {
    const threaded = createArgon2Hasher(FAST, { threads: 2 });
    const pooled = createArgon2Hasher(FAST);
    try {
      const phc = await threaded.hash("correct horse battery staple");
      expect(phc.startsWith("$argon2id$v=19$m=1024,t=1,p=1$")).toBe(true);
      expect(await threaded.verify(phc, "correct horse battery staple")).toBe(true);
      expect(await threaded.verify(phc, "correct horse battery stapler")).toBe(false);
      expect(await pooled.verify(phc, "correct horse battery staple")).toBe(true);
      expect(await threaded.verify(await pooled.hash("another one entirely"), "another one entirely")).toBe(true);
      // Concurrent jobs are spread over the threads and each gets its own answer.
      const answers = await Promise.all(["correct horse battery staple", "wrong", "correct horse battery staple", "wrong"].map((p) => threaded.verify(phc, p)));
      expect(answers).toEqual([true, false, true, false]);
    } finally {
      await threaded.close();
      await pooled.close();
    }
  });

  it("a malformed stored hash verifies as false instead of throwing (no 500 on a corrupt row)", async () => {
    const threaded = createArgon2Hasher(FAST, { threads: 1 });
    try {
      expect(await threaded.verify("$argon2id$v=19$m=1024,t=1,p=1$not-base64$nope", "whatever")).toBe(false);
      expect(await threaded.verify("plain-text-password", "plain-text-password")).toBe(false);
      expect(await threaded.verify((await threaded.hash("still works after an error")), "still works after an error")).toBe(true);
    } finally {
      await threaded.close();
    }
  });

  it.runIf(process.platform === "linux")("login flood vs signed-in users: the hashing thread runs at nice 19, so the event loop wins a contended core", async () => {
    const before = threadNiceValues().filter((n) => n === 19).length;
    const threaded = createArgon2Hasher(FAST, { threads: 1 });
    try {
      await threaded.hash("start the thread");
      expect(threadNiceValues().filter((n) => n === 19).length).toBe(before + 1);
      // The process itself (the event loop's thread) keeps its priority.
      const self = readFileSync("/proc/self/stat", "utf8");
      expect(Number(self.slice(self.lastIndexOf(")") + 2).split(" ")[16])).toBe(0);
    } finally {
      await threaded.close();
    }
  });
});
