// Validate Kubernetes objects (one JSON document per line on stdin) against the
// official schemas, two ways:
//   1. kubernetes-models' validate(): the OpenAPI schema of each kind (types,
//      enums, formats, required fields), compiled with ajv;
//   2. TypeScript's excess-property check against the same models' interfaces:
//      catches misspelt or unknown fields, which the OpenAPI schemas allow but
//      server-side apply rejects ("field not declared in schema").
// Each way first proves it rejects a broken object, so a validator that
// accepts everything fails the test instead of passing it.
//
//   node validate.mjs NODE_MODULES_PARENT < objects.jsonl
//
// Exit 0: all valid; 1: an object is invalid or a self-check failed.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const schemaDir = path.resolve(process.argv[2] || ".");
const modules = path.join(schemaDir, "node_modules");

// apiVersion/kind -> [package path of the model, interface name]
function modelOf(apiVersion, kind) {
  if (!/^[A-Za-z]+$/.test(kind) || !/^[a-z0-9.]*\/?v[0-9a-z]+$/.test(apiVersion)) return null;
  if (apiVersion === "monitoring.coreos.com/v1")
    return [`@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`, `I${kind}`];
  const known = ["v1", "apps/v1", "policy/v1", "networking.k8s.io/v1"];
  if (!known.includes(apiVersion)) return null;
  return [`kubernetes-models/${apiVersion}/${kind}`, `I${kind}`];
}

async function loadModel(apiVersion, kind) {
  const model = modelOf(apiVersion, kind);
  if (!model) throw new Error(`no schema known for ${apiVersion} ${kind}`);
  // By file URL: the packages are found in schemaDir, wherever this script lives.
  const file = path.join(modules, `${model[0]}.js`);
  const mod = await import(pathToFileURL(file).href);
  if (!mod[kind]) throw new Error(`${file} does not export ${kind}`);
  return mod[kind];
}

async function validateOne(obj) {
  const Model = await loadModel(obj.apiVersion, obj.kind);
  new Model(obj).validate();
}

function describe(obj) {
  return `${obj.kind} ${obj.metadata && obj.metadata.name}`;
}

// TypeScript: one typed constant per object; an unknown field is an excess property.
function typecheck(objects, label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valkeyaddon-schema-"));
  try {
    fs.symlinkSync(modules, path.join(dir, "node_modules"), "dir");
    const lines = [];
    objects.forEach((obj, i) => {
      const [pkg, iface] = modelOf(obj.apiVersion, obj.kind);
      lines.push(`import type { ${iface} as T${i} } from "${pkg}";`);
      lines.push(`export const object${i}: T${i} = ${JSON.stringify(obj)};`);
    });
    fs.writeFileSync(path.join(dir, "objects.ts"), lines.join("\n") + "\n");
    const tsc = path.join(modules, "typescript", "bin", "tsc");
    const run = spawnSync(process.execPath, [tsc, "--noEmit", "--strict", "--target", "es2022", "--module",
      "nodenext", "--moduleResolution", "nodenext", "--skipLibCheck", "--pretty", "false", "objects.ts"],
      { cwd: dir, encoding: "utf8" });
    if (run.error) throw run.error;
    return { ok: run.status === 0, output: (run.stdout + run.stderr).trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function selfCheck() {
  const broken = [
    { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "x" },
      spec: { replicas: "3", selector: {}, serviceName: "x", template: {} } },
    { apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: { type: "Headless" } },
    { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "x" },
      spec: { endpoints: [{ port: 9121 }] } },
  ];
  for (const obj of broken) {
    let rejected = false;
    try {
      await validateOne(obj);
    } catch (e) {
      rejected = true;
    }
    if (!rejected) throw new Error(`self-check: validate() accepted a broken ${obj.kind}`);
  }
  const misspelt = [{ apiVersion: "v1", kind: "Service", metadata: { name: "x" },
    spec: { publishNotReadyAddress: true } }];
  const result = typecheck(misspelt, "self-check");
  if (result.ok || !/publishNotReadyAddress/.test(result.output))
    throw new Error(`self-check: TypeScript accepted a misspelt field:\n${result.output}`);
  console.log("ok - self-check: both validators reject broken objects");
}

async function main() {
  await selfCheck();
  const text = fs.readFileSync(0, "utf8");
  const objects = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  if (objects.length === 0) throw new Error("no objects on stdin");
  let failed = 0;
  for (const obj of objects) {
    try {
      if (!modelOf(obj.apiVersion, obj.kind)) throw new Error(`no schema known for ${obj.apiVersion} ${obj.kind}`);
      await validateOne(obj);
      console.log(`ok - ${describe(obj)} matches the ${obj.apiVersion} schema`);
    } catch (e) {
      failed++;
      console.log(`FAIL - ${describe(obj)}: ${e.message}`);
    }
  }
  if (failed === 0) {
    const result = typecheck(objects, "objects");
    if (result.ok) {
      console.log(`ok - ${objects.length} objects have no unknown or misspelt fields`);
    } else {
      failed++;
      console.log(`FAIL - unknown or misspelt fields:\n${result.output}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL - ${e.stack || e}`);
  process.exit(1);
});
