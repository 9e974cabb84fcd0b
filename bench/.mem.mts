const f = (m: NodeJS.MemoryUsage) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v / 1048576)]));
console.log("start", f(process.memoryUsage()));
await import("@zxcvbn-ts/language-common");
console.log("after zxcvbn", f(process.memoryUsage()));
await import("../src/core/passwords/common-passwords.js");
console.log("after common-passwords", f(process.memoryUsage()));
await import("../src/compose.js");
console.log("after compose import", f(process.memoryUsage()));
