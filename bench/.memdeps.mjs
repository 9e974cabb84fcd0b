const f = () => Math.round(process.memoryUsage().rss / 1048576);
const h = () => Math.round(process.memoryUsage().heapUsed / 1048576);
let last = f();
console.log("start", last, h());
for (const dep of process.argv.slice(2)) {
  await import(dep);
  globalThis.gc?.();
  const now = f();
  console.log(dep.padEnd(40), "+" + (now - last), "MB rss, heap", h());
  last = now;
}
