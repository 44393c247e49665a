// Command yaml-reader reads each named file as kubectl reads a manifest (documents split by
// k8s.io/apimachinery/pkg/util/yaml, each converted by sigs.k8s.io/yaml) and prints one line per file with its
// document count, or the reader's error; it exits 1 when any file is refused.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func read(file string) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(f))
	documents := 0
	for {
		document, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return documents, nil
		}
		if err != nil {
			return documents, err
		}
		if _, err := yaml.YAMLToJSON(document); err != nil {
			return documents, fmt.Errorf("document %d: %w", documents+1, err)
		}
		documents++
	}
}

func main() {
	failed := false
	for _, file := range os.Args[1:] {
		documents, err := read(file)
		if err != nil {
			failed = true
			fmt.Printf("%s: refused: %v\n", file, err)
			continue
		}
		fmt.Printf("%s: %d documents\n", file, documents)
	}
	if failed {
		os.Exit(1)
	}
}
