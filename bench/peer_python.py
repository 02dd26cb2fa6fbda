"""The python3-kubernetes peer of the side-by-side benchmark (bench/README.md).

Run with Debian's /usr/bin/python3 and its python3-kubernetes (22.6):

    python3 bench/peer_python.py --kubeconfig FILE --plan-file FILE --round create|nochange

Replays one round of bench/plan's requests through one kubernetes.client.ApiClient
(urllib3, kept-alive connections). Every request goes through ApiClient.call_api, the
client's own request path, with the JSON answer decoded (response_type "object"), but
without its typed models, which only add cost. The objects are parsed before the clock
starts; serialising them is the client's work, inside the loop:

- POST (the auth Secret): the object as a dict; the client serialises it (json.dumps).
- PATCH (server-side apply, application/apply-patch+yaml): 22.6 cannot send a dict with
  this content type (DynamicClient.server_side_apply fails: "Cannot prepare a request
  message for provided arguments"), so the loop serialises the object itself
  (json.dumps, compact) and hands the client the string, which it sends unchanged.

Prints one JSON line: apps, wall_ms and cpu_ms of the loop, requests.
"""
import argparse
import json
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--plan-file", required=True)
    p.add_argument("--round", required=True, choices=["create", "nochange"])
    args = p.parse_args()

    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    cfg = client.Configuration()
    config.load_kube_config(config_file=args.kubeconfig, client_configuration=cfg)
    api = client.ApiClient(cfg)

    reqs = []
    with open(args.plan_file, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["round"] != args.round:
                continue
            if r["body"] is not None:
                r["object"] = json.loads(r["body"])
            reqs.append(r)
    apps = len({r["app"] for r in reqs})

    wall0 = time.monotonic()
    cpu0 = time.process_time()
    for r in reqs:
        method = r["method"]
        headers = {"Accept": "application/json"}
        query = []
        body = None
        if method == "POST":
            headers["Content-Type"] = r["content_type"]
            body = r["object"]
        elif method == "PATCH":
            headers["Content-Type"] = r["content_type"]
            body = json.dumps(r["object"], separators=(",", ":"))
            query = [("fieldManager", r["field_manager"])]
            if r["force"]:
                query.append(("force", "true"))
        try:
            api.call_api(r["path"], method, query_params=query, header_params=headers, body=body,
                         response_type="object", auth_settings=["BearerToken"], _return_http_data_only=True)
            status = 200
        except ApiException as e:
            status = e.status
            if status != r["expect"]:
                print(f"peer_python: {method} {r['path']}: HTTP {status}, expected {r['expect']}", file=sys.stderr)
                return 1
        if r["expect"] == 404 and status != 404:
            print(f"peer_python: {method} {r['path']}: found, expected 404", file=sys.stderr)
            return 1
    wall = (time.monotonic() - wall0) * 1e3
    cpu = (time.process_time() - cpu0) * 1e3
    print(json.dumps({"apps": apps, "wall_ms": round(wall, 3), "cpu_ms": round(cpu, 3), "requests": len(reqs)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
