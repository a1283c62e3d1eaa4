// etcdctl, built from the etcdctl Go module at the version the install script pins.
package main

import "go.etcd.io/etcd/etcdctl/v3/ctlv3"

func main() { ctlv3.MustStart() }
