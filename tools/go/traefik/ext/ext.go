// Package ext: the empty extension points Traefik's dynamic configuration embeds (dynamic.HTTP, dynamic.Router).
package ext

// HTTP extends dynamic.HTTP; Traefik's open-source build adds nothing.
type HTTP struct{}

// Router extends dynamic.Router; Traefik's open-source build adds nothing.
type Router struct{}
