#!/usr/bin/env node
// The `gatehouse` command: runs the TypeScript CLI (src/cli/main.ts) through tsx,
// a runtime dependency, so it works from a clean clone right after `npm install`.
import { register } from "tsx/esm/api";

register();
await import(new URL("../src/cli/main.ts", import.meta.url).href);
