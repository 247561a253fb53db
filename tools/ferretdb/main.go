// Command ferretdb-local runs FerretDB (MongoDB wire protocol) with the SQLite
// handler for the project's local stack. It embeds the ferretdb package
// because the upstream command refuses to start without generated version files.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data", ".stack/ferretdb", "directory for the SQLite databases")
	listenTLS := flag.String("listen-tls", "", "TCP address to serve TLS on as well (empty: none)")
	tlsCert := flag.String("tls-cert", "", "the server certificate (PEM) for --listen-tls")
	tlsKey := flag.String("tls-key", "", "the server key (PEM) for --listen-tls")
	flag.Parse()

	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		log.Fatalf("ferretdb-local: bad data directory %q: %v", *dataDir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		log.Fatalf("ferretdb-local: cannot create %s: %v", abs, err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{
			TCP: *listen, TLS: *listenTLS, TLSCertFile: *tlsCert, TLSKeyFile: *tlsKey,
		},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		log.Fatalf("ferretdb-local: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log.Printf("ferretdb-local: listening on %s, data in %s", *listen, abs)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatalf("ferretdb-local: %v", err)
	}
	log.Printf("ferretdb-local: stopped")
}
