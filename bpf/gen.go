package bpf

// The objects are built with clang 16 and committed, so building Riposte
// needs no C toolchain. TestObjectsReproducible rebuilds them with the flags
// of this line and fails when the result differs from the committed files.
//go:generate go tool bpf2go -cc clang-16 -strip llvm-strip-16 -target amd64 -go-package bpf -output-stem process process process.c -- -Wall -Werror -I.
