// Command hello is the tiny static program that the image tests put in
// images. It prints the user and group it runs as.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("hello from uid=%d gid=%d\n", os.Getuid(), os.Getgid())
}
