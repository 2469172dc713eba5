#!/usr/bin/env node
// Entry point of the `zl` command (compiled from src/cli/main.ts by `npm run build`).
import { main } from "../dist/cli/main.js";

await main(process.argv);
