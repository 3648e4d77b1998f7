// Command gatehouse is the access-control service for Trino and its admin CLI.
package main

import (
	"os"

	"github.com/gatehouse-authz/gatehouse/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
