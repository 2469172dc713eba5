/**
 * `zl evidence list | report`: the conflicting votes a node saw, what the chain has on record, and
 * reporting what is not yet on record as `evidence.report` transactions (docs/governance.md,
 * "Evidence of equivocation").
 */
import type { Command } from "commander";
import { jsonToCbor } from "../sdk/args.js";
import { apiOption, clientFor, homeOption, out, signingClient } from "./common.js";

interface OnRecord {
  total: number;
  records: Array<{ seq: number; address: string; org: string; height: number; round: number; kind: string }>;
}

export function registerEvidenceCommands(program: Command): void {
  const evidence = program
    .command("evidence")
    .description("equivocation: what a node saw, what is on record, and reporting it");

  evidence
    .command("list")
    .description("conflicting votes this node saw, and the equivocation on record")
    .addOption(homeOption())
    .addOption(apiOption())
    .option("--json", "print JSON")
    .action(async (o) => {
      const client = clientFor(o);
      const [seen, { result: record }] = await Promise.all([
        client.observedEvidence(),
        client.query<OnRecord>("evidence", "list", { from: "1", limit: "100" }),
      ]);
      const lines = [
        `seen by this node: ${seen.observed.length}`,
        ...seen.observed.map(
          (e) =>
            `  ${e.type} ${e.height}/${e.round} by ${e.validator.address}${e.onRecord ? " (on record)" : " (not reported)"}`,
        ),
        `on record: ${record.total}`,
        ...record.records.map(
          (r) => `  #${r.seq} ${r.kind} ${r.height}/${r.round} by ${r.address} (${r.org})`,
        ),
      ];
      out(o.json, { observed: seen.observed, onRecord: record }, lines.join("\n"));
    });

  evidence
    .command("report")
    .description(
      "report every pair this node saw that is not on record yet (needs an admin or supervisor key)",
    )
    .option("--key <name>", "key name under <home>/keys, or a PEM file path", "admin")
    .addOption(homeOption())
    .addOption(apiOption())
    .option("--json", "print JSON")
    .action(async (o) => {
      const { client, signer } = await signingClient(o);
      const pending = (await client.observedEvidence()).observed.filter((e) => !e.onRecord);
      const results = [];
      for (const e of pending) {
        const r = await client.send(
          signer,
          { module: "evidence", call: "report", args: jsonToCbor(e.report) },
          { wait: true },
        );
        results.push({ height: e.height, round: e.round, validator: e.validator.address, ...r });
        if (r.receipt && r.receipt.status !== "ok") process.exitCode = 3;
      }
      out(
        o.json,
        { reported: results },
        pending.length === 0
          ? "nothing to report: every pair this node saw is on record"
          : results
              .map(
                (r) => `${r.validator} at ${r.height}/${r.round}: ${r.receipt?.code ?? r.status} (${r.id})`,
              )
              .join("\n"),
      );
    });
}
