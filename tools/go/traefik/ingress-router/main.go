// Command ingress-router routes HTTP requests the way Traefik does for Kubernetes Ingresses, with Traefik's own
// code: its Kubernetes Ingress provider (at the version platform-core pins) reads the Ingresses, Services and
// EndpointSlices from an API server and writes the Ingresses' status, and Traefik's HTTP muxer matches each
// request against the routers that provider produced, with Traefik's rule priorities. A matched request goes to
// the backend the test names for the router's service (Go's reverse proxy stands for Traefik's load balancer).
//
// Traefik's full binary cannot be built from the Go module proxy (several of its ACME DNS providers' modules
// are not served), so this is the closest real check of the rendered Ingresses: routing decisions and RBAC are
// Traefik's; TLS termination and the entry points' redirections are not exercised here.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"sync/atomic"

	"github.com/traefik/traefik/v3/pkg/config/dynamic"
	"github.com/traefik/traefik/v3/pkg/middlewares/requestdecorator"
	httpmuxer "github.com/traefik/traefik/v3/pkg/muxer/http"
	"github.com/traefik/traefik/v3/pkg/provider/kubernetes/ingress"
	"github.com/traefik/traefik/v3/pkg/safe"
	"github.com/traefik/traefik/v3/pkg/types"
)

// route is what the test reads back: a router as Traefik's provider made it, with the priority it sorts by.
type route struct {
	Name     string   `json:"name"`
	Rule     string   `json:"rule"`
	Priority int      `json:"priority"`
	Service  string   `json:"service"`
	Servers  []string `json:"servers"`
}

func main() {
	endpoint := flag.String("endpoint", "", "the API server URL")
	tokenFile := flag.String("token-file", "", "the ServiceAccount token Traefik's pod would have")
	caFile := flag.String("ca", "", "the API server's CA certificate")
	ingressClass := flag.String("ingress-class", "", "as --providers.kubernetesingress.ingressClass")
	publishedService := flag.String("published-service", "", "as --providers.kubernetesingress.ingressEndpoint.publishedService")
	listen := flag.String("listen", "127.0.0.1:0", "where to serve HTTP")
	backendsFile := flag.String("backends", "", "JSON object: Traefik service name to the URL standing for its servers")
	routesFile := flag.String("routes", "", "where to write the current routes (JSON), replaced on every change")
	flag.Parse()

	backends := map[string]string{}
	if *backendsFile != "" {
		raw, err := os.ReadFile(*backendsFile)
		if err != nil {
			log.Fatalf("backends: %v", err)
		}
		if err := json.Unmarshal(raw, &backends); err != nil {
			log.Fatalf("backends %s: %v", *backendsFile, err)
		}
	}

	provider := &ingress.Provider{Endpoint: *endpoint, Token: types.FileOrContent(*tokenFile), CertAuthFilePath: *caFile, IngressClass: *ingressClass}
	if *publishedService != "" {
		provider.IngressEndpoint = &ingress.EndpointIngress{PublishedService: *publishedService}
	}
	if err := provider.Init(); err != nil {
		log.Fatalf("provider: %v", err)
	}
	messages := make(chan dynamic.Message, 16)
	if err := provider.Provide(messages, safe.NewPool(context.Background())); err != nil {
		log.Fatalf("provider: %v", err)
	}
	parser, err := httpmuxer.NewSyntaxParser()
	if err != nil {
		log.Fatalf("rule parser: %v", err)
	}

	var current atomic.Pointer[httpmuxer.Muxer]
	current.Store(httpmuxer.NewMuxer(parser, nil))
	// Traefik's entry points put the canonical host in the request's context before routing (Host rules read it).
	decorator := requestdecorator.New(nil)
	server := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		decorator.ServeHTTP(w, r, current.Load().ServeHTTP)
	})}
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	fmt.Printf("listening on http://%s\n", listener.Addr())
	go func() { log.Fatal(server.Serve(listener)) }()

	for message := range messages {
		muxer, routes, err := build(parser, message.Configuration, backends)
		if err != nil {
			log.Printf("configuration refused: %v", err)
			continue
		}
		current.Store(muxer)
		if *routesFile != "" {
			if err := writeRoutes(*routesFile, routes); err != nil {
				log.Fatalf("routes: %v", err)
			}
		}
		log.Printf("configuration with %d routers", len(routes))
	}
}

func build(parser httpmuxer.SyntaxParser, conf *dynamic.Configuration, backends map[string]string) (*httpmuxer.Muxer, []route, error) {
	muxer := httpmuxer.NewMuxer(parser, nil)
	routes := []route{}
	if conf == nil || conf.HTTP == nil {
		return muxer, routes, nil
	}
	for name, router := range conf.HTTP.Routers {
		priority := router.Priority
		if priority == 0 {
			priority = httpmuxer.GetRulePriority(router.Rule)
		}
		servers := []string{}
		if service := conf.HTTP.Services[router.Service]; service != nil && service.LoadBalancer != nil {
			for _, server := range service.LoadBalancer.Servers {
				servers = append(servers, server.URL)
			}
		}
		if err := muxer.AddRoute(router.Rule, router.RuleSyntax, priority, ingress.ProviderName, forward(router.Service, backends[router.Service])); err != nil {
			return nil, nil, fmt.Errorf("router %s: %w", name, err)
		}
		routes = append(routes, route{Name: name, Rule: router.Rule, Priority: priority, Service: router.Service, Servers: servers})
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].Name < routes[j].Name })
	return muxer, routes, nil
}

// forward sends a request to the backend standing for a service, marking which service Traefik chose.
func forward(service, backend string) http.Handler {
	if backend == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Traefik-Service", service)
			http.Error(w, "no backend given for service "+service, http.StatusBadGateway)
		})
	}
	target, err := url.Parse(backend)
	if err != nil {
		log.Fatalf("backend %s for %s: %v", backend, service, err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		ModifyResponse: func(response *http.Response) error {
			response.Header.Set("X-Traefik-Service", service)
			return nil
		},
	}
	return proxy
}

func writeRoutes(file string, routes []route) error {
	raw, err := json.MarshalIndent(routes, "", "  ")
	if err != nil {
		return err
	}
	temp := file + ".tmp"
	if err := os.WriteFile(temp, raw, 0o644); err != nil {
		return err
	}
	return os.Rename(temp, file)
}
