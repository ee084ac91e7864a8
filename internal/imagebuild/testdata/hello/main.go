// Command hello is the tiny static program that the image tests put in images.
package main

import "fmt"

func main() {
	fmt.Println("hello from a scratch image")
}
