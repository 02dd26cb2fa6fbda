package valkeyaddon

/*
#include "shim.h"
*/
import "C"

import "time"

// The built-in transports and storages. Each is created in C and handed to
// the context, which owns it from then on; a refused one is freed here.

func (c *Context) setBuiltinTransport(create func(ctx *C.valkeyaddon_ctx, s *cstrings, out **C.valkeyaddon_transport) C.int,
	after func(t *C.valkeyaddon_transport)) error {
	return c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var t *C.valkeyaddon_transport
		if rc := create(ctx, s, &t); rc < 0 {
			return rc
		}
		if rc := C.valkeyaddon_ctx_set_transport(ctx, t); rc < 0 {
			C.vgo_transport_free(t)
			return rc
		}
		if after != nil {
			after(t)
		}
		return 0
	})
}

func (c *Context) setBuiltinStorage(create func(ctx *C.valkeyaddon_ctx, s *cstrings, out **C.valkeyaddon_storage) C.int) error {
	return c.do(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var st *C.valkeyaddon_storage
		if rc := create(ctx, s, &st); rc < 0 {
			return rc
		}
		if rc := C.valkeyaddon_ctx_set_storage(ctx, st); rc < 0 {
			C.vgo_storage_free(st)
			return rc
		}
		return 0
	})
}

// UseMemoryTransport gives the context an in-memory transport: objects live
// as long as the transport, with no API server semantics and no watch (so
// waits for Ready time out). For tests and dry runs.
func (c *Context) UseMemoryTransport() error {
	return c.setBuiltinTransport(func(ctx *C.valkeyaddon_ctx, _ *cstrings, out **C.valkeyaddon_transport) C.int {
		rc := C.valkeyaddon_transport_memory_new(out)
		if rc < 0 {
			C.valkeyaddon_ctx_set_error(ctx, rc, nil)
		}
		return rc
	}, nil)
}

// KubernetesOptions configure the Kubernetes API transport
// (valkeyaddon_kubernetes_options); zero values mean the defaults.
type KubernetesOptions struct {
	Kubeconfig            string // ':'-separated paths; "": $KUBECONFIG, else ~/.kube/config
	Context               string // kubeconfig context; "": current-context
	InCluster             bool   // the pod's service account instead of a kubeconfig
	InsecureSkipTLSVerify bool   // never the default
	ConnectTimeout        time.Duration
	RequestTimeout        time.Duration // one request, watches excluded
	RetryDeadline         time.Duration // retries of 429/5xx/connection failures stop after this
}

// UseKubernetesTransport gives the context the Kubernetes API transport
// (libcurl) and returns the namespace its configuration selects.
func (c *Context) UseKubernetesTransport(o KubernetesOptions) (string, error) {
	if err := checkArgs("Kubeconfig", o.Kubeconfig, "Context", o.Context); err != nil {
		return "", err
	}
	var namespace string
	err := c.setBuiltinTransport(func(ctx *C.valkeyaddon_ctx, s *cstrings, out **C.valkeyaddon_transport) C.int {
		var opts C.valkeyaddon_kubernetes_options
		opts.version = C.VALKEYADDON_KUBERNETES_OPTIONS_VERSION
		opts.kubeconfig = s.opt(o.Kubeconfig)
		opts.context = s.opt(o.Context)
		if o.InCluster {
			opts.in_cluster = 1
		}
		if o.InsecureSkipTLSVerify {
			opts.insecure_skip_tls_verify = 1
		}
		opts.connect_timeout_ms = timeoutMS(o.ConnectTimeout)
		opts.request_timeout_ms = timeoutMS(o.RequestTimeout)
		opts.retry_deadline_ms = timeoutMS(o.RetryDeadline)
		return C.valkeyaddon_transport_kubernetes_new(out, ctx, &opts)
	}, func(t *C.valkeyaddon_transport) {
		if p := C.valkeyaddon_transport_kubernetes_namespace(t); p != nil {
			namespace = C.GoString(p)
		}
	})
	return namespace, err
}

// LocalOptions configure the local transport (valkeyaddon_local_options).
type LocalOptions struct {
	StateDir     string // required
	ServerPath   string // "": valkey-server on PATH, else redis-server
	StartTimeout time.Duration
}

// UseLocalTransport gives the context the local transport: the add-on on
// this machine, with real servers on loopback ports instead of a cluster.
func (c *Context) UseLocalTransport(o LocalOptions) error {
	if err := checkArgs("StateDir", o.StateDir, "ServerPath", o.ServerPath); err != nil {
		return err
	}
	return c.setBuiltinTransport(func(ctx *C.valkeyaddon_ctx, s *cstrings, out **C.valkeyaddon_transport) C.int {
		var opts C.valkeyaddon_local_options
		opts.version = C.VALKEYADDON_LOCAL_OPTIONS_VERSION
		opts.state_dir = s.opt(o.StateDir)
		opts.server_path = s.opt(o.ServerPath)
		opts.start_timeout_ms = timeoutMS(o.StartTimeout)
		return C.valkeyaddon_transport_local_new(out, ctx, &opts)
	}, nil)
}

// UseMemoryStorage gives the context an in-memory storage: rows live as long
// as the context.
func (c *Context) UseMemoryStorage() error {
	return c.setBuiltinStorage(func(ctx *C.valkeyaddon_ctx, _ *cstrings, out **C.valkeyaddon_storage) C.int {
		rc := C.valkeyaddon_storage_memory_new(out)
		if rc < 0 {
			C.valkeyaddon_ctx_set_error(ctx, rc, nil)
		}
		return rc
	})
}

// PostgresOptions configure the PostgreSQL storage (valkeyaddon_postgres_options).
type PostgresOptions struct {
	ConnInfo        string // a postgres:// URL or libpq keyword=value pairs; required; never logged
	ApplicationName string // "": "libvalkeyaddon"
	ConnectTimeout  time.Duration
}

// UsePostgresStorage gives the context a PostgreSQL storage (libpq). It
// connects at once; the schema is not created: call MigrateStorage.
func (c *Context) UsePostgresStorage(o PostgresOptions) error {
	if err := checkArgs("ConnInfo", o.ConnInfo, "ApplicationName", o.ApplicationName); err != nil {
		return err
	}
	return c.setBuiltinStorage(func(ctx *C.valkeyaddon_ctx, s *cstrings, out **C.valkeyaddon_storage) C.int {
		var opts C.valkeyaddon_postgres_options
		opts.version = C.VALKEYADDON_POSTGRES_OPTIONS_VERSION
		opts.conninfo = s.opt(o.ConnInfo)
		opts.application_name = s.opt(o.ApplicationName)
		opts.connect_timeout_s = C.int32_t((o.ConnectTimeout + time.Second - 1) / time.Second)
		return C.valkeyaddon_storage_postgres_new(out, ctx, &opts)
	})
}

// UseSQLiteStorage gives the context an SQLite storage at path (":memory:"
// for a private in-memory database); the schema is migrated on open.
func (c *Context) UseSQLiteStorage(path string) error {
	if err := checkArgs("path", path); err != nil {
		return err
	}
	return c.setBuiltinStorage(func(ctx *C.valkeyaddon_ctx, s *cstrings, out **C.valkeyaddon_storage) C.int {
		return C.valkeyaddon_storage_sqlite_new(out, ctx, s.str(path))
	})
}

// OpenStorage gives the context the storage a URL names, as the command
// line's --database does: "sqlite:PATH", "memory:", "postgres://...",
// "postgresql://..." or libpq keyword=value pairs. The schema is migrated.
func (c *Context) OpenStorage(url string) error {
	if err := checkArgs("url", url); err != nil {
		return err
	}
	return c.setBuiltinStorage(func(ctx *C.valkeyaddon_ctx, s *cstrings, out **C.valkeyaddon_storage) C.int {
		return C.valkeyaddon_storage_open(out, ctx, s.str(url))
	})
}
