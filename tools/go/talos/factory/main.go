// Command factory is a stand-in for the Image Factory's schematic API (https://factory.talos.dev), which the
// tests cannot reach. It follows the factory's documented behaviour: POST /schematics takes a schematic in
// YAML, refuses unknown fields, and answers {"id": …}, the SHA-256 of the schematic as go-yaml (v4, the
// encoder the factory uses) writes it back; the image and installer paths answer 404 for an ID nobody
// registered. The schematic type below declares only the fields groundwork sends (overlay, official
// extensions, extra kernel arguments), in the factory's field order.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"

	"go.yaml.in/yaml/v4"
)

type schematic struct {
	Overlay       overlay       `yaml:"overlay,omitempty"`
	Customization customization `yaml:"customization"`
}

type overlay struct {
	Image string `yaml:"image"`
	Name  string `yaml:"name"`
}

type customization struct {
	ExtraKernelArgs  []string         `yaml:"extraKernelArgs,omitempty"`
	SystemExtensions systemExtensions `yaml:"systemExtensions,omitempty"`
}

type systemExtensions struct {
	OfficialExtensions []string `yaml:"officialExtensions,omitempty"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	var mu sync.Mutex
	registered := map[string]bool{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /schematics", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		dec := yaml.NewDecoder(bytes.NewReader(body))
		dec.KnownFields(true)
		var s schematic
		if err := dec.Decode(&s); err != nil {
			http.Error(w, fmt.Sprintf("invalid schematic: %v", err), http.StatusBadRequest)
			return
		}
		canonical, err := yaml.Marshal(&s)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		sum := sha256.Sum256(canonical)
		id := hex.EncodeToString(sum[:])
		mu.Lock()
		registered[id] = true
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
	})
	mux.HandleFunc("GET /image/{id}/{version}/{file}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ok := registered[r.PathValue("id")]
		mu.Unlock()
		if !ok {
			http.Error(w, "schematic ID not found", http.StatusNotFound)
			return
		}
		_, _ = io.WriteString(w, strings.Repeat("image", 4))
	})
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	// The test reads the address from the first line.
	fmt.Printf("listening on http://%s\n", listener.Addr())
	log.Fatal(http.Serve(listener, mux))
}
