// Stands for Traefik's nested module github.com/traefik/traefik/dynamic/ext, which Traefik's go.mod replaces
// with a folder of its repository and which the Go module proxy therefore cannot serve. Upstream it declares
// two empty extension points embedded in Traefik's dynamic configuration; this module declares the same.
module github.com/traefik/traefik/dynamic/ext

go 1.26.0
