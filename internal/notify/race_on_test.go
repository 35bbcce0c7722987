//go:build race

package notify

// slowdown is how much longer a timed bound may take under the race
// detector, which slows this code several times over; the bounds a test
// asserts are the production build's.
const slowdown = 3
