// The @kubernetes/client-node peer of the side-by-side benchmark (bench/README.md).
//
//     node bench/node/peer.mjs NODE_MODULES_PARENT --kubeconfig FILE --plan-file FILE --round create|nochange
//
// NODE_MODULES_PARENT is the directory whose node_modules holds the client
// (`npm ci --prefix bench/node` installs 1.4.0 there; 2.x needs Node 22).
// Replays one round of bench/plan's requests through KubernetesObjectApi, the
// client's API for objects of any kind: read, create, and patch with
// PatchStrategy.ServerSideApply (fieldManager, force). It learns each
// apiVersion's resources once per process (GET /api/v1, /apis/apps/v1), as
// the client does. The objects are parsed before the clock starts;
// serialising them is the client's work, inside the loop.
//
// Prints one JSON line: apps, wall_ms and cpu_ms of the loop, requests.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

function arg(name) {
    const i = process.argv.indexOf(name);
    if (i < 0 || i + 1 >= process.argv.length) {
        console.error(`peer.mjs: ${name} is required`);
        process.exit(2);
    }
    return process.argv[i + 1];
}

const require = createRequire(path.join(path.resolve(process.argv[2]), 'package.json'));
const k8s = await import(require.resolve('@kubernetes/client-node'));
const kubeconfig = arg('--kubeconfig');
const round = arg('--round');

const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
const api = k8s.KubernetesObjectApi.makeApiClient(kc);

const reqs = [];
for (const line of readFileSync(arg('--plan-file'), 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    if (r.round !== round) continue;
    r.object = r.body === null
        ? { apiVersion: r.api_version, kind: r.kind, metadata: { name: r.name, namespace: r.namespace } }
        : JSON.parse(r.body);
    reqs.push(r);
}
const apps = new Set(reqs.map((r) => r.app)).size;

const wall0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
for (const r of reqs) {
    let status = 200;
    try {
        if (r.method === 'GET') {
            await api.read(r.object);
        } else if (r.method === 'POST') {
            await api.create(r.object);
        } else {
            await api.patch(r.object, undefined, undefined, r.field_manager, r.force,
                            k8s.PatchStrategy.ServerSideApply);
        }
    } catch (e) {
        status = e.code;
        if (status !== r.expect) {
            console.error(`peer.mjs: ${r.method} ${r.path}: ${e.message}`);
            process.exit(1);
        }
    }
    if (r.expect === 404 && status !== 404) {
        console.error(`peer.mjs: ${r.method} ${r.path}: found, expected 404`);
        process.exit(1);
    }
}
const wall = Number(process.hrtime.bigint() - wall0) / 1e6;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ apps, wall_ms: +wall.toFixed(3), cpu_ms: +((cpu.user + cpu.system) / 1e3).toFixed(3),
                             requests: reqs.length }));
