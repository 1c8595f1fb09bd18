// Bundles the console's third-party browser code into switchboard/web/static/vendor/.
// Run by scripts/bootstrap after `npm ci`; the output is not committed.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "switchboard", "web", "static", "vendor");
mkdirSync(out, { recursive: true });

// JsSIP ships CommonJS only: bundle it (with its few dependencies) into one
// script that defines the global JsSIP.
await build({
  entryPoints: [join(here, "node_modules", "jssip", "lib", "JsSIP.js")],
  bundle: true,
  minify: true,
  format: "iife",
  globalName: "JsSIP",
  platform: "browser",
  target: ["chrome100", "firefox100", "safari15"],
  outfile: join(out, "jssip.min.js"),
  legalComments: "eof",
});

// htmx and Chart.js publish ready-made browser builds.
copyFileSync(join(here, "node_modules", "htmx.org", "dist", "htmx.min.js"), join(out, "htmx.min.js"));
copyFileSync(
  join(here, "node_modules", "chart.js", "dist", "chart.umd.min.js"),
  join(out, "chart.umd.min.js"),
);
console.log(`console assets written to ${out}`);
