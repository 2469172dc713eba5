/** The native system modules, in the order they are registered. */
import type { Module } from "../execution/module.js";
import { attestModule } from "./attest/index.js";
import { evidenceModule } from "./evidence/index.js";
import { governanceModule } from "./governance/index.js";
import { licensesModule } from "./licenses/index.js";
import { membershipModule } from "./membership/index.js";

export function nativeModules(): Module[] {
  return [membershipModule, attestModule, licensesModule, governanceModule, evidenceModule];
}
