// A MongoDB-wire test server for vitalstream's document-store tests: FerretDB v1 embedded,
// SQLite backend. `go install` of FerretDB's own command builds a binary that fails at start-up
// (it needs a version file the module lacks); embedding its ferretdb package works.
//
//	ferretdb-test -listen 127.0.0.1:57017 -dir .services/ferretdb/data
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:57017", "TCP address to listen on")
	dir := flag.String("dir", "data", "directory of the SQLite databases")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		log.Fatal(err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f.Run(ctx)
}
