//go:build !linux

package main

import "fmt"

func main() { fmt.Println("vmcheck runs as /init of a Linux guest") }
