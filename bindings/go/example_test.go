package valkeyaddon_test

import (
	"fmt"
	"log"

	"valkeyaddon"
)

func Example() {
	c, err := valkeyaddon.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// A real service: c.UseKubernetesTransport(...) or c.SetTransport(its own Transport).
	if err := c.UseMemoryTransport(); err != nil {
		log.Fatal(err)
	}
	if err := c.UseMemoryStorage(); err != nil {
		log.Fatal(err)
	}
	res, err := c.Provision(valkeyaddon.ProvisionOptions{
		Namespace: "tenant-acme", TenantID: "acme", AppID: "web", Plan: "pro", NoWait: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Row.ResourceName, res.Row.Plan, res.Row.Status)
	// Output: valkey-acme-web pro Creating
}

func ExampleValkeyPlanConfig() {
	p, err := valkeyaddon.ValkeyPlanConfig("standard")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Replicas, p.MemoryLimit, p.PersistenceName, p.MaxmemoryPolicy)
	// Output: 1 256Mi rdb_daily noeviction
}
