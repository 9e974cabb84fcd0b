// The server's entry point (`node dist/main.js`, `npm start`, `gatehouse serve`). It first keeps V8's
// young generation small (src/runtime/young-generation.ts) and only then loads the server: ESM loads a
// module's whole static import graph before running any of it, so the server is a dynamic import.
import { holdYoungGeneration } from "./runtime/young-generation.js";

holdYoungGeneration();
await import("./start-server.js");
