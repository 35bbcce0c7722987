//go:build !race

package notify

// slowdown: see race_on_test.go.
const slowdown = 1
