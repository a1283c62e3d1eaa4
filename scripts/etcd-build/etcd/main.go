// etcd, built from the etcd server's Go module at the version the install script pins: the
// test clusters of etcd-defragd run the same server code as a release of that version.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
