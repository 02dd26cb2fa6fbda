"""The ctypes mirrors match the public headers: a C program compiled against
include/valkeyaddon prints sizeof and every offsetof, and the Python side must agree.
Also pins each struct's version to the header's *_VERSION macro."""

import ctypes
import os
import shlex
import shutil
import subprocess

from conftest import TOP_SRCDIR
from valkeyaddon import _lib

STRUCTS = [
    ("valkeyaddon_ctx_options", _lib.CtxOptions, "VALKEYADDON_CTX_OPTIONS_VERSION"),
    ("valkeyaddon_plan_config", _lib.PlanConfig, "VALKEYADDON_PLAN_CONFIG_VERSION"),
    ("valkeyaddon_ensure_result", _lib.EnsureResult, "VALKEYADDON_ENSURE_RESULT_VERSION"),
    ("valkeyaddon_status_info", _lib.StatusInfo, "VALKEYADDON_STATUS_INFO_VERSION"),
    ("valkeyaddon_addon_row", _lib.AddonRow, "VALKEYADDON_ADDON_ROW_VERSION"),
    ("valkeyaddon_provision_options", _lib.ProvisionOptions, "VALKEYADDON_PROVISION_OPTIONS_VERSION"),
    ("valkeyaddon_deprovision_options", _lib.DeprovisionOptions, "VALKEYADDON_DEPROVISION_OPTIONS_VERSION"),
    ("valkeyaddon_deprovision_result", _lib.DeprovisionResult, "VALKEYADDON_DEPROVISION_RESULT_VERSION"),
    ("valkeyaddon_kubernetes_options", _lib.KubernetesOptions, "VALKEYADDON_KUBERNETES_OPTIONS_VERSION"),
    ("valkeyaddon_local_options", _lib.LocalOptions, "VALKEYADDON_LOCAL_OPTIONS_VERSION"),
    ("valkeyaddon_postgres_options", _lib.PostgresOptions, "VALKEYADDON_POSTGRES_OPTIONS_VERSION"),
    ("valkeyaddon_object_options", _lib.ObjectOptions, "VALKEYADDON_OBJECT_OPTIONS_VERSION"),
    ("valkeyaddon_resource", _lib.Resource, None),
    ("valkeyaddon_transport", _lib.TransportVTable, "VALKEYADDON_TRANSPORT_VERSION"),
    ("valkeyaddon_storage", _lib.StorageVTable, "VALKEYADDON_STORAGE_VERSION"),
]
HEADERS = ["context.h", "plans.h", "ensure.h", "rollout.h", "provision.h", "transports.h", "storages.h",
           "objects.h", "sys/transport.h", "sys/storage.h"]


def c_program():
    lines = ["#include <stdio.h>", "#include <stddef.h>"]
    lines += [f"#include <valkeyaddon/{h}>" for h in HEADERS]
    lines.append("int main(void) {")
    for cname, struct, version in STRUCTS:
        lines.append(f'    printf("{cname} sizeof %lu\\n", (unsigned long)sizeof({cname}));')
        if version:
            lines.append(f'    printf("{cname} VERSION %d\\n", (int){version});')
        for field, _ in struct._fields_:
            lines.append(f'    printf("{cname} {field} %lu\\n", (unsigned long)offsetof({cname}, {field}));')
    lines += ["    return 0;", "}"]
    return "\n".join(lines) + "\n"


def test_abi_layout__structs_match_headers(tmp_path):
    cc = shlex.split(os.environ.get("CC") or "cc")
    # The compiler that built the library (make check exports CC): there is always one.
    assert shutil.which(cc[0]), f"no C compiler ({cc[0]}) to read the headers with (set CC)"
    src = tmp_path / "layout.c"
    src.write_text(c_program())
    exe = tmp_path / "layout"
    subprocess.run(cc + ["-I", os.path.join(TOP_SRCDIR, "include"), "-o", str(exe), str(src)], check=True)
    expected = {}
    for line in subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines():
        cname, what, value = line.split()
        expected[(cname, what)] = int(value)
    for cname, struct, version in STRUCTS:
        assert expected[(cname, "sizeof")] == ctypes.sizeof(struct), cname
        if version:
            assert expected[(cname, "VERSION")] == struct.VERSION, cname
        for field, _ in struct._fields_:
            assert expected[(cname, field)] == getattr(struct, field).offset, f"{cname}.{field}"
